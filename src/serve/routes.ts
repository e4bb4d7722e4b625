/**
 * Every endpoint of `aekit serve`, in one table: method, path, the route label of the request
 * counters, and a handler that parses the request, calls an operation and shapes its answer.
 * `/openapi.json` (openapi.ts) documents the same endpoints; test/serve checks that the two agree.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { MAX_SEED } from '../artifact/prior';
import { PACKAGE_ROOT } from '../core/paths';
import { parseDecodeBody, parseImagesBody, parseSampleBody } from './codec';
import type { RequestLimits } from './codec';
import { demoPageHtml } from './demo-page';
import { HttpError } from './http-error';
import { SERVED_ROLES } from './models';
import { listModel, OPERATIONS, servedRoles } from './operations';
import type { Inference, Operation, OperationModel } from './operations';
import { negotiate } from './negotiation';
import type { ResponseFormat } from './negotiation';
import { openApiDocument } from './openapi';
import { bytesReply, classesReply, codesReply, imagesReply, jsonReply } from './replies';
import type { Method, Reply, Route } from './router';
import type { HealthReport } from './status';
import { ISOLATION_HEADERS, ORT_URL_PREFIX, ortWebDist, SHAREABLE_HEADERS, WEB_MODULE_FILE, WEB_MODULE_URL } from './static-files';
import { v2NoRoute, v2Routes } from './v2/routes';

/** What the handlers need. */
export interface RouteDeps {
  inference: Inference;
  limits: RequestLimits;
  /** onnxruntime-web files that may be served under `/ort/`. */
  ortFiles: ReadonlySet<string>;
  health(): HealthReport;
  metrics(): string;
}

/** Formats of image answers, and of rows of numbers (codes, class probabilities: a PNG of them means nothing). */
const IMAGE_FORMATS: readonly ResponseFormat[] = ['json', 'octet', 'png'];
const ROW_FORMATS: readonly ResponseFormat[] = ['json', 'octet'];

const route = (method: Method, path: string, name: string, handle: Route['handle']): Route => ({ method, path, name, handle });

/** The 404 for a path no route has. */
export function noRoute(method: string, pathname: string): HttpError {
  if (/^\/v2(\/|$)/.test(pathname)) return v2NoRoute(method, pathname);
  const hint = /^\/v1\/models\/[^/]+\/[^/]+$/.test(pathname) ? `operations: ${OPERATIONS.join(', ')} (see /openapi.json)` : 'see /openapi.json';
  return new HttpError(404, 'NOT_FOUND', `no route ${method} ${pathname}; ${hint}`);
}

/** The endpoints of a server over `deps.inference`'s models. */
export function serveRoutes(deps: RouteDeps): Route[] {
  const { inference, limits } = deps;
  // Fixed for the server's life: serialised once.
  const listings = inference.models.map(listModel);
  const modelsJson = JSON.stringify({ models: listings });
  const modelJson = new Map(listings.map((l) => [l.name, JSON.stringify(l)]));
  const openApiJson = JSON.stringify(openApiDocument(inference.models));
  const demoHtml = Buffer.from(demoPageHtml());
  const staticHeaders = { ...ISOLATION_HEADERS, ...SHAREABLE_HEADERS };

  const builtFile = (url: string, file: string): Route =>
    route('GET', url, 'static', () => {
      // The package's relative path only: error bodies never show where the server's files live.
      if (!existsSync(file)) throw new HttpError(404, 'NOT_FOUND', `${url} is not built (${path.relative(PACKAGE_ROOT, file)} is missing): run \`npm run build\` in the aekit package`);
      return { file, headers: staticHeaders };
    });

  /** POST /v1/models/:name/<operation>: the model (of the operation's kind) and the answer format are settled before the body is read. */
  const operation = <Op extends Operation>(op: Op, formats: readonly ResponseFormat[], answer: (model: OperationModel<Op>, body: unknown, format: ResponseFormat) => Promise<Reply>): Route =>
    route('POST', `/v1/models/:name/${op}`, op, async (request) => {
      const model = inference.require(inference.model(request.params.name), op);
      const format = negotiate(request.accept, formats);
      return answer(model, await request.json(), format);
    });

  return [
    route('GET', '/', 'demo', () => bytesReply('text/html; charset=utf-8', demoHtml, { ...ISOLATION_HEADERS, 'Cache-Control': 'no-cache' })),
    route('GET', '/healthz', 'healthz', () => {
      const health = deps.health();
      return jsonReply(JSON.stringify(health), health.status === 'ok' ? 200 : 503);
    }),
    route('GET', '/metrics', 'metrics', () => bytesReply('text/plain; version=0.0.4; charset=utf-8', Buffer.from(deps.metrics()))),
    route('GET', '/openapi.json', 'openapi', () => jsonReply(openApiJson, 200, { 'Access-Control-Allow-Origin': '*' })),
    builtFile(WEB_MODULE_URL, WEB_MODULE_FILE),
    builtFile(`${WEB_MODULE_URL}.map`, `${WEB_MODULE_FILE}.map`),
    route('GET', `${ORT_URL_PREFIX}:file`, 'static', ({ params }) => {
      if (!deps.ortFiles.has(params.file)) {
        throw new HttpError(404, 'NOT_FOUND', `no onnxruntime-web file '${params.file}'; available: ${[...deps.ortFiles].filter((f) => !f.endsWith('.map')).join(', ')}`);
      }
      return { file: path.join(ortWebDist(), params.file), headers: staticHeaders };
    }),
    route('GET', '/v1/models', 'models', () => jsonReply(modelsJson)),
    route('GET', '/v1/models/:name', 'model', ({ params }) => jsonReply(modelJson.get(inference.model(params.name).name)!)),
    route('GET', '/v1/models/:name/artifacts/:file', 'artifact', ({ params }) => {
      const model = inference.model(params.name);
      const role = SERVED_ROLES.find((r) => `${r}.onnx` === params.file);
      const artifact = role && model[role];
      if (!artifact) throw new HttpError(404, 'NOT_FOUND', `model '${model.name}' has no artifact '${params.file}'; it has: ${servedRoles(model).map((r) => `${r}.onnx`).join(', ')}`);
      return bytesReply('application/octet-stream', Buffer.from(artifact.bytes.buffer, artifact.bytes.byteOffset, artifact.bytes.byteLength), SHAREABLE_HEADERS);
    }),
    operation('decode', IMAGE_FORMATS, async (model, body, format) => imagesReply(format, await inference.decode(model, parseDecodeBody(body, model, limits)))),
    operation('sample', IMAGE_FORMATS, async (model, body, format) => {
      const input = parseSampleBody(body, model, limits, () => randomInt(0, MAX_SEED + 1));
      return imagesReply(format, await inference.sample(model, input));
    }),
    operation('encode', ROW_FORMATS, async (model, body, format) => codesReply(format, await inference.encode(model, parseImagesBody(body, model, limits)))),
    operation('reconstruct', IMAGE_FORMATS, async (model, body, format) => imagesReply(format, await inference.reconstruct(model, parseImagesBody(body, model, limits)))),
    operation('classify', ROW_FORMATS, async (model, body, format) => classesReply(format, await inference.classify(model, parseImagesBody(body, model, limits)))),
    // The v2 inference protocol (KServe / Triton HTTP): one model per artifact, named as in `aekit export --triton`.
    ...v2Routes({ inference, limits }),
  ];
}
