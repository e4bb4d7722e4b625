/**
 * Numerical agreement: every runtime's outputs held against onnxruntime-node's CPU provider (the
 * reference) on the same seeded inputs.
 */
import { AekitError } from '../core/errors';
import { openOrtSession } from '../artifact/runtime';
import type { TypedHostTensor } from '../artifact/runtime';
import { numericOutput } from './dtypes';
import type { BenchArtifact } from './inputs';
import { REFERENCE_RUNTIME } from './runtimes';
import { firstLine } from './worker';
import type { OutputTensor } from './worker';

/**
 * Largest |output - reference output| a runtime may show before its row is flagged. float32 runs
 * of the same graph differ by reassociation noise (~1e-6 on aekit models, see export's
 * FP32_TOLERANCE of 1e-4 against tfjs); 1e-3 is the agreement bound the bench issue sets, wide
 * enough for GPU kernels, tight enough to catch a wrong weight or layout.
 */
export const AGREEMENT_TOLERANCE = 1e-3;

/** Agreement of a runtime's outputs with the reference at one batch size. */
export interface Agreement {
  /** Max |output - reference| over every output (Infinity, null in JSON, when not comparable). */
  maxAbsDiff: number;
  tolerance: number;
  /** maxAbsDiff <= tolerance. */
  ok: boolean;
  /** Why the outputs could not be compared element by element (missing output, other shape). */
  note?: string;
}

/** Max |a - b| over every output of the reference; NaN counts as infinitely far. */
export function compareOutputs(got: Record<string, OutputTensor>, reference: Record<string, OutputTensor>, tolerance: number): Agreement {
  let worst = 0;
  const notes: string[] = [];
  for (const [name, want] of Object.entries(reference)) {
    const have = got[name];
    if (!have) {
      notes.push(`output '${name}' missing`);
      worst = Infinity;
      continue;
    }
    if (have.dims.join(',') !== want.dims.join(',')) {
      notes.push(`output '${name}' has shape [${have.dims.join(', ')}], reference [${want.dims.join(', ')}]`);
      worst = Infinity;
      continue;
    }
    for (let i = 0; i < want.data.length; i++) {
      const d = Math.abs(have.data[i] - want.data[i]);
      if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
    }
  }
  return { maxAbsDiff: worst, tolerance, ok: worst <= tolerance, ...(notes.length ? { note: notes.join('; ') } : {}) };
}

/** The reference outputs at every batch size it could run, and why it could not run the others. */
export interface ReferenceRun {
  outputs: Map<number, Record<string, OutputTensor>>;
  /** Batch sizes the reference runtime failed on, with its error (a model that fixes its batch inside, e.g. by a Reshape). */
  failed: Map<number, string>;
}

/**
 * The reference outputs (onnxruntime-node, CPU) at every batch size, computed in this process. A
 * batch size the reference cannot run is recorded in `failed`: no runtime is timed on it.
 * @throws AekitError BAD_DATA when the reference runtime cannot load the model, or runs it at no
 *   batch size at all.
 */
export async function referenceOutputs(artifact: BenchArtifact, feedsByBatch: Map<number, Record<string, TypedHostTensor>>): Promise<ReferenceRun> {
  let session;
  try {
    session = await openOrtSession('ort-node-cpu', artifact.bytes);
  } catch (error) {
    throw new AekitError('BAD_DATA', `the reference runtime ${REFERENCE_RUNTIME} cannot load the model: ${firstLine(error)}`, { where: artifact.path, cause: error });
  }
  try {
    const run: ReferenceRun = { outputs: new Map(), failed: new Map() };
    let firstError: unknown;
    for (const [batch, feeds] of feedsByBatch) {
      try {
        const results = await session.runTyped(feeds);
        run.outputs.set(batch, Object.fromEntries(results.map((r) => [r.name, numericOutput(r)])));
      } catch (error) {
        firstError ??= error;
        run.failed.set(batch, firstLine(error));
      }
    }
    if (run.outputs.size === 0) {
      throw new AekitError('BAD_DATA', `the reference runtime ${REFERENCE_RUNTIME} cannot run the model: ${firstLine(firstError)}`, { where: artifact.path, cause: firstError });
    }
    return run;
  } finally {
    await session.release();
  }
}
