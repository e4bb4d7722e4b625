/**
 * The models of the v2 inference protocol (KServe's Open Inference Protocol, Triton's HTTP API):
 * one per served artifact, named and described exactly as `aekit export --triton` writes it into a
 * Triton model repository (`<run>-<part>`, version 1, the config's input and output tensors), so
 * that one client script runs against `aekit serve` and against Triton serving that repository.
 */
import { AekitError } from '../../core/errors';
import { TRITON_MODEL_VERSION, tritonConfig } from '../../export/triton';
import type { ServedArtifact, ServedModel } from '../models';
import { servedRoles } from '../operations';

/** The platform v2 model metadata reports: Triton's name for the onnxruntime backend's ONNX models. */
export const V2_PLATFORM = 'onnxruntime_onnx';

/** A tensor as v2 model metadata describes it. */
export interface V2Tensor {
  name: string;
  /** The v2 datatype, e.g. `FP32` (Triton's `TYPE_FP32` without the prefix). */
  datatype: string;
  /** Full shape, batch first; -1 for a dimension of any size. */
  shape: number[];
}

/** One v2 model: one artifact of a served model. */
export interface V2Model {
  /** The Triton model name: `<run>-<part>`. */
  name: string;
  /** The one version, as the repository's version folder is named. */
  version: string;
  served: ServedModel;
  artifact: ServedArtifact;
  inputs: V2Tensor[];
  outputs: V2Tensor[];
}

/** The name `aekit export --triton` gives an artifact of run `runId` (Triton model names are letters, digits, `_`, `.`, `-`). */
export function v2ModelName(served: ServedModel, artifact: ServedArtifact): string {
  const { runId, part } = artifact.metadata;
  // A run id Triton could not take (the export refuses it) falls back to the served model's cleaned name.
  const run = /^[A-Za-z0-9_.-]+$/.test(runId) ? runId : served.name;
  return `${run}-${part}`;
}

/**
 * The v2 models of the served models, in the order they are served (decoder before encoder).
 * @throws AekitError DUPLICATE_NAME when two artifacts would share a v2 name.
 */
export function v2Models(models: readonly ServedModel[]): V2Model[] {
  const out: V2Model[] = [];
  const seen = new Map<string, string>();
  for (const served of models) {
    for (const role of servedRoles(served)) {
      const artifact = served[role]!;
      const name = v2ModelName(served, artifact);
      const other = seen.get(name);
      if (other) throw new AekitError('DUPLICATE_NAME', `two artifacts have the v2 model name '${name}': ${other} and ${artifact.file}; serve them from separate servers`, { where: artifact.file });
      seen.set(name, artifact.file);
      const config = tritonConfig(name, artifact.metadata);
      const tensors = (list: typeof config.inputs): V2Tensor[] => list.map((t) => ({ name: t.name, datatype: t.dataType.replace(/^TYPE_/, ''), shape: [-1, ...t.dims] }));
      out.push({ name, version: String(TRITON_MODEL_VERSION), served, artifact, inputs: tensors(config.inputs), outputs: tensors(config.outputs) });
    }
  }
  return out;
}

/** `$metadata_model_response` of the protocol. */
export function modelMetadata(model: V2Model): { name: string; versions: string[]; platform: string; inputs: V2Tensor[]; outputs: V2Tensor[] } {
  return { name: model.name, versions: [model.version], platform: V2_PLATFORM, inputs: model.inputs, outputs: model.outputs };
}
