/**
 * The artifact layer: what an exported ONNX file says about itself (metadata), the one derivation
 * of its facts (describeArtifact), reading and writing them, drawing from its prior, the train-step
 * bundle format, and the one file that loads onnxruntime in Node (./runtime.ts). Every stage above
 * (export, eval, train, serve, bench, the web module) reads artifacts through here.
 */
export {
  ARTIFACT_IMAGE_LAYOUT,
  BATCH_DIM,
  FEATURE_INPUT_RANGES,
  FEATURE_RESIZE_MODES,
  LAYOUT_BY_RANK,
  METADATA_FIELDS,
  METADATA_KEY_PREFIX,
  REQUIRED_METADATA_FIELDS,
  VALUE_RANGES,
  validateMetadata,
} from './metadata';
export type { ArtifactMetadata, ArtifactPart, CategoricalLayout, FeatureExtraction, FeatureInputRange, FeatureResize, ImageShape, LabelInput, SamplePrior, TensorLayout, TensorSpec, ValueRange } from './metadata';
export { describeArtifact, CLASSIFIER_FEATURES_OUTPUT, CLASSIFIER_LOGITS_OUTPUT, DECODING_PARTS, DRAWABLE_PRIORS } from './info';
export type { ArtifactInfo, ClassifierSummary, ClassScores, DescribeOptions, LabelInfo, ModelSummary } from './info';
export { artifactInfo, rawMetadata, readArtifactInfo, readMetadata, registryPrior, writeMetadata } from './onnx-io';
export { drawLatents, MAX_SEED, normalSamples, uniformSamples } from './prior';
export { checkNodeExecutionProvider, checkRuntime, checkSessionRuntime, HOST_DTYPES, NODE_EXECUTION_PROVIDERS, openOrtSession, ORT_RUNTIMES, ORT_SESSION_RUNTIMES, runOnnx } from './runtime';
export type { FeedTensor, HostDtype, HostTensor, HostTensorData, NamedHostTensor, NodeExecutionProvider, OrtRuntime, OrtSessionHandle, OrtSessionOptions, OrtSessionRuntime, TypedHostTensor } from './runtime';
