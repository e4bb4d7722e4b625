/**
 * Export stage (`aekit/export`): a run folder -> ONNX artifacts ({@link exportRun}: NCHW images,
 * symbolic batch, aekit metadata, optional fp16), their parity report on onnxruntime-node and
 * onnxruntime-web, atomic writes, Triton model repositories. The converter itself
 * (`./export.ts`, `./convert.ts`, `./verify.ts`) takes tfjs models, so it stays internal.
 */
export { exportRun } from './run-export';
export type { ExportedArtifact, ExportRunOptions, ExportRunResult } from './run-export';
export type { ArtifactMetadataInput, ExportOptions, ExportResult, Fp16Report } from './export';
export { PART_NAMES } from '../models';
export type { PartName } from '../models';
export { sanitizeName, DEFAULT_OPSET, MIN_OPSET, MAX_OPSET } from './convert';
export { SUPPORTED_LAYERS } from './layers';
export { SUPPORTED_ACTIVATIONS } from './activations';
export {
  ARTIFACT_IMAGE_LAYOUT,
  BATCH_DIM,
  LAYOUT_BY_RANK,
  METADATA_KEY_PREFIX,
  REQUIRED_METADATA_FIELDS,
  VALUE_RANGES,
} from '../artifact/metadata';
export { readMetadata, writeMetadata } from '../artifact/onnx-io';
export type { ArtifactMetadata, ArtifactPart, LabelInput, TensorLayout, TensorSpec, ValueRange } from '../artifact/metadata';
export { FP16_RTOL, FP16_TOLERANCE, FP32_RTOL, FP32_TOLERANCE, DEFAULT_VERIFY_BATCH } from './verify';
export type { OutputParity, RuntimeParity, VerifyOptions, VerifyReport } from './verify';
export type { WorstElement } from '../core/allclose';
export { ORT_RUNTIMES } from '../artifact/runtime';
export type { OrtRuntime } from '../artifact/runtime';
export { writeFileAtomic, writeOnnxAtomic } from '../core/atomic-write';
export type { AtomicWriteOptions } from '../core/atomic-write';
export {
  parseTritonConfig,
  renderTritonConfig,
  tritonConfig,
  writeTritonRepository,
  DEFAULT_TRITON_MAX_BATCH_SIZE,
  DEFAULT_TRITON_MAX_QUEUE_DELAY_US,
  TRITON_MODEL_VERSION,
} from './triton';
export type { TritonModelConfig, TritonOptions, TritonRepositoryPaths, TritonTensorConfig } from './triton';
