/**
 * Serving stage: `startServer` (HTTP API over onnxruntime-node with dynamic batching, demo page,
 * browser files) and `exportWebDemo` (the demo page as a static site). The browser module itself is src/serve/web/aekit-web.ts, built to
 * `dist/web/aekit-web.js` and published as `aekit/web`.
 */
export { startServer, SERVE_DEFAULTS } from './server';
export type { AekitServer, HealthReport, ServeOptions } from './server';
export { EXECUTION_PROVIDERS, EP_PARITY_TOLERANCE } from './node-session';
export type { ExecutionProviderName, ExecutionProviderReport } from './node-session';
export type { ClassifierModel, LatentModel, ServedModel, ServedArtifact, ServedRole } from './models';
export type { BatchStats } from './batcher';
export { openApiDocument } from './openapi';
export { toPixelByte, toUnitInterval } from './web/image-math';
export { normalSamples } from '../artifact/prior';
export { exportWebDemo, writeWebDemo, WEB_DEMO_FILES, WEB_DEMO_FORMAT } from './static-site';
export type { ExportWebDemoOptions, WebDemoFile, WebDemoOptions, WebDemoResult } from './static-site';
