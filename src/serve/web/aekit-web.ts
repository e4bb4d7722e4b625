/**
 * aekit's browser module (built to `dist/web/aekit-web.js`): load an exported decoder, encoder or
 * whole model with onnxruntime-web, decode, sample, encode and reconstruct, turn canvases into
 * model inputs and images back into pixels, and mount the demo page (`mountDemo`) that
 * `aekit serve` and `aekit export --web` ship. Every number it needs (latent size, classes, image
 * shape, value range, prior) comes from the artifact's own metadata.
 *
 * `onnxruntime-web` stays an external import: a page maps it with an import map (what the demo page
 * does), a bundler resolves it from node_modules. Either way onnxruntime-web fetches its
 * `.wasm`/`.mjs` files at run time from `wasmPaths` (default: next to its own module file).
 */
export { fromUnitInterval, toPixelByte, toUnitInterval } from './image-math';
export { normalSamples } from '../../artifact/prior';
export { VALUE_RANGES } from '../../data/types';
export type { ValueRange } from '../../data/types';
export type { ImageShape } from '../../artifact/metadata';
export { readAekitMetadata } from '../../artifact/metadata-bytes';
export { describeArtifact, summarizeModel } from '../../artifact/info';
export type { ArtifactInfo, ClassScores, ModelSummary } from '../../artifact/info';
export { loadTrainer } from './fine-tune';
export type { FineTuneStepOptions, LoadTrainerOptions, Trainer, TrainStepManifest } from './fine-tune';

export { WEB_EXECUTION_PROVIDERS } from './ort';
export type { WebExecutionProvider, WebLog } from './ort';
export { DEFAULT_MAX_WASM_THREADS } from './runtime';
export type { LoadDecoderOptions } from './runtime';
export type { ImageBatch, LabelOption } from './tensors';
export { loadDecoder } from './decoder';
export type { Decoder } from './decoder';
export { loadEncoder, loadModel } from './encoder';
export type { Codes, Encoder, ModelUrls, WebModel } from './encoder';
export { canvasToModelInput, drawImages, imageRgba } from './draw';
export type { DrawOptions } from './draw';
export { DIGIT_BOX, IMAGE_FITS, toModelInput } from './resample';
export type { ImageFit, ModelInputOptions, RgbaImage } from './resample';
export { mountDemo } from './demo/mount';
export type { DemoHandle, DemoOptions, DemoState, DemoTimings } from './demo/mount';
