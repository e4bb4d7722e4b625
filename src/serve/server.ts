/**
 * `aekit serve`'s library half: an HTTP server (node:http, no framework) over onnxruntime-node
 * sessions with dynamic batching, the JSON API described at `/openapi.json`, the demo page and the
 * browser files. Client mistakes become 4xx JSON errors; only server faults are 5xx. `close()`
 * drains: stop accepting, finish what is in flight, then release the sessions.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { endianness } from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { AEKIT_VERSION } from '../core/version';
import { addBatchStats, DynamicBatcher, emptyBatchStats } from './batcher';
import type { BatchStats, RowFeeds } from './batcher';
import { firstNonFinite, imagesPng, MEDIA_TYPES, negotiate, parseDecodeBody, parseImagesBody, parseSampleBody, rowsJson } from './codec';
import type { RequestLimits, ResponseFormat } from './codec';
import { demoPageHtml } from './demo-page';
import { HttpError } from './http-error';
import { loadModels } from './models';
import type { ServedArtifact, ServedModel, ServedRole } from './models';
import { checkExecutionProvider, NodeRuntime } from './node-session';
import type { ExecutionProviderName, ExecutionProviderReport, NodeSession } from './node-session';
import { openApiDocument } from './openapi';
import { ISOLATION_HEADERS, listOrtFiles, ORT_URL_PREFIX, ortWebDist, sendFile, SHAREABLE_HEADERS, WEB_MODULE_FILE, WEB_MODULE_URL } from './static-files';
import { drawLatents, MAX_SEED } from '../artifact/prior';

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** `.onnx` artifacts, or folders of them (one subfolder level is searched too). */
  models: string | readonly string[];
  /** Interface to listen on (default 127.0.0.1: only this machine). */
  host?: string;
  /** Port (default 8080; 0 picks a free one, see {@link AekitServer.port}). */
  port?: number;
  /** onnxruntime-node execution provider (default cpu). */
  executionProvider?: ExecutionProviderName;
  /** Refuse to start when the provider cannot be used, instead of falling back to cpu. */
  strictExecutionProvider?: boolean;
  /** Most rows in one merged onnxruntime run (default 64; 1 turns batching off). */
  maxBatch?: number;
  /** Longest a request waits for others to share its run, in ms (default 2). */
  maxDelayMs?: number;
  /** Most rows (latents, images, samples) per request (default 256). */
  maxRowsPerRequest?: number;
  /** Largest request body in bytes (default 4 MiB: 256 MNIST images as JSON fit). */
  maxBodyBytes?: number;
  /** A request not answered within this many ms gets a 408 (body still arriving) or 503 (default 30 000). */
  requestTimeoutMs?: number;
  /** On close, connections still open after this many ms are cut (default 10 000). */
  shutdownTimeoutMs?: number;
  /** onnxruntime intra-op threads per session (default 1, see {@link SERVE_DEFAULTS}). */
  intraOpNumThreads?: number;
  logger?: Logger;
}

/** Defaults of {@link ServeOptions}. */
export const SERVE_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  executionProvider: 'cpu' as ExecutionProviderName,
  strictExecutionProvider: false,
  maxBatch: 64,
  maxDelayMs: 2,
  maxRowsPerRequest: 256,
  maxBodyBytes: 4 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  shutdownTimeoutMs: 10_000,
  // The server's parallelism is across requests (batching); onnxruntime's intra-op pool spins
  // while waiting and takes cores from the event loop that parses and answers requests.
  intraOpNumThreads: 1,
});

/** Bounds of the numeric options (inclusive). */
const OPTION_BOUNDS: Readonly<Record<string, [number, number]>> = Object.freeze({
  port: [0, 65535],
  maxBatch: [1, 4096],
  maxDelayMs: [0, 1000],
  maxRowsPerRequest: [1, 65536],
  maxBodyBytes: [1024, 1024 ** 3],
  requestTimeoutMs: [1, 3_600_000],
  shutdownTimeoutMs: [0, 3_600_000],
  intraOpNumThreads: [1, 256],
});

/** What `/healthz` answers. */
export interface HealthReport {
  status: 'ok' | 'draining';
  version: string;
  uptimeSeconds: number;
  executionProvider: ExecutionProviderReport;
  models: string[];
  /** Batching limits and counters summed over every artifact. */
  batching: BatchStats & { maxBatch: number; maxDelayMs: number };
  /** Counters per `<model>/<encoder|decoder>`. */
  batchingByArtifact: Record<string, BatchStats>;
  inFlight: number;
}

/** A running server. */
export interface AekitServer {
  /** `http://host:port` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly models: readonly ServedModel[];
  readonly executionProvider: ExecutionProviderReport;
  health(): HealthReport;
  /** Stop accepting, finish in-flight requests, release the sessions. `forced`: connections had to be cut. */
  close(): Promise<{ forced: boolean }>;
}

type Resolved = Required<Omit<ServeOptions, 'models' | 'logger'>>;

function resolveOptions(options: ServeOptions): Resolved {
  const out = { ...SERVE_DEFAULTS } as Resolved;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key === 'models' || key === 'logger') continue;
    (out as Record<string, unknown>)[key] = value;
  }
  for (const [key, [lo, hi]] of Object.entries(OPTION_BOUNDS)) {
    const value = (out as Record<string, unknown>)[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
      throw new AekitError('BAD_ARGUMENT', `${key} must be a whole number in ${lo}..${hi}, got ${String(value)}`, { where: key });
    }
  }
  out.executionProvider = checkExecutionProvider(out.executionProvider);
  return out;
}

/** Content types accepted for request bodies: JSON, and what curl's `-d` sends by default. */
const JSON_BODY_TYPES = /^(|application\/json|application\/[\w.+-]*\+json|text\/plain|application\/x-www-form-urlencoded)$/;

/** Per-request state the handlers share with the timeout and the counters. */
interface Exchange {
  route: string;
  bodyDone: boolean;
  /** Close the connection after answering (the body was not read to its end). */
  closeAfter: boolean;
}

const OPERATIONS = ['decode', 'sample', 'encode', 'reconstruct'] as const;
type Operation = (typeof OPERATIONS)[number];

/** The role an operation needs first. */
const OPERATION_NEEDS: Readonly<Record<Operation, ServedRole[]>> = Object.freeze({
  decode: ['decoder'],
  sample: ['decoder'],
  encode: ['encoder'],
  reconstruct: ['encoder', 'decoder'],
});

/** Output byte order: raw float32 responses are little-endian on every host. */
const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

class Service {
  private draining = false;
  private inFlight = 0;
  private readonly startedAt = Date.now();
  private readonly requestCounts = new Map<string, number>();
  private readonly modelsByName: Map<string, ServedModel>;
  private readonly modelsJson: string;
  private readonly modelJson = new Map<string, string>();
  private readonly openApiJson: string;
  private readonly demoHtml = demoPageHtml();
  private readonly limits: RequestLimits;

  constructor(
    private readonly options: Resolved,
    readonly models: readonly ServedModel[],
    private readonly batchers: Map<ServedArtifact, DynamicBatcher>,
    readonly runtime: NodeRuntime,
    private readonly ortFiles: Set<string>,
    private readonly logger: Logger,
  ) {
    this.modelsByName = new Map(models.map((m) => [m.name, m]));
    const described = models.map((m) => describeModel(m));
    described.forEach((d, i) => this.modelJson.set(models[i].name, JSON.stringify(d)));
    this.modelsJson = JSON.stringify({ models: described });
    this.openApiJson = JSON.stringify(openApiDocument(models));
    this.limits = { maxRowsPerRequest: options.maxRowsPerRequest };
  }

  /** The node:http request listener. */
  readonly handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const exchange: Exchange = { route: 'unknown', bodyDone: false, closeAfter: false };
    this.inFlight++;
    const timer = setTimeout(() => this.timeout(res, exchange), this.options.requestTimeoutMs);
    res.on('close', () => {
      clearTimeout(timer);
      this.inFlight--;
      const key = `${exchange.route}|${res.statusCode}`;
      this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
    });
    this.route(req, res, exchange).catch((error: unknown) => this.fail(res, exchange, error));
  };

  private timeout(res: http.ServerResponse, exchange: Exchange): void {
    exchange.closeAfter = true;
    const error = exchange.bodyDone
      ? new HttpError(503, 'REQUEST_TIMEOUT', `the request was not answered within ${this.options.requestTimeoutMs} ms`)
      : new HttpError(408, 'REQUEST_TIMEOUT', `the request body did not arrive within ${this.options.requestTimeoutMs} ms`);
    this.fail(res, exchange, error);
  }

  private fail(res: http.ServerResponse, exchange: Exchange, error: unknown): void {
    if (res.headersSent || res.destroyed) return;
    if (error instanceof HttpError) {
      this.sendJson(res, exchange, error.status, JSON.stringify(error), error.headers);
      return;
    }
    this.logger.error(`${exchange.route}: ${(error as Error)?.stack ?? String(error)}`);
    const message = error instanceof AekitError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
    this.sendJson(res, exchange, 500, JSON.stringify(new HttpError(500, 'INTERNAL', message)));
  }

  private headers(exchange: Exchange, extra: Record<string, string>): Record<string, string> {
    return this.draining || exchange.closeAfter ? { ...extra, Connection: 'close' } : extra;
  }

  private sendJson(res: http.ServerResponse, exchange: Exchange, status: number, body: string, extra: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, this.headers(exchange, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...extra }));
    res.end(body);
  }

  private sendBytes(res: http.ServerResponse, exchange: Exchange, contentType: string, body: Buffer, extra: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(200, this.headers(exchange, { 'Content-Type': contentType, 'Content-Length': String(body.length), ...extra }));
    res.end(body);
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, exchange: Exchange): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const pathname = query >= 0 ? url.slice(0, query) : url;
    if (pathname.startsWith('/v1/models')) return this.routeModels(req, res, exchange, pathname);
    switch (pathname) {
      case '/':
        exchange.route = 'demo';
        allow(req, 'GET');
        return this.sendBytes(res, exchange, 'text/html; charset=utf-8', Buffer.from(this.demoHtml), { ...ISOLATION_HEADERS, 'Cache-Control': 'no-cache' });
      case '/healthz': {
        exchange.route = 'healthz';
        allow(req, 'GET');
        const health = this.health();
        return this.sendJson(res, exchange, health.status === 'ok' ? 200 : 503, JSON.stringify(health));
      }
      case '/metrics':
        exchange.route = 'metrics';
        allow(req, 'GET');
        return this.sendBytes(res, exchange, 'text/plain; version=0.0.4; charset=utf-8', Buffer.from(this.metrics()));
      case '/openapi.json':
        exchange.route = 'openapi';
        allow(req, 'GET');
        return this.sendJson(res, exchange, 200, this.openApiJson, { 'Access-Control-Allow-Origin': '*' });
      case WEB_MODULE_URL:
      case `${WEB_MODULE_URL}.map`: {
        exchange.route = 'static';
        allow(req, 'GET');
        const file = pathname === WEB_MODULE_URL ? WEB_MODULE_FILE : `${WEB_MODULE_FILE}.map`;
        if (!existsSync(file)) throw new HttpError(404, 'NOT_FOUND', `${pathname} is not built (${file} is missing): run \`npm run build\``);
        return sendFile(res, file, { ...ISOLATION_HEADERS, ...SHAREABLE_HEADERS });
      }
    }
    if (pathname.startsWith(ORT_URL_PREFIX)) {
      exchange.route = 'static';
      allow(req, 'GET');
      const name = pathname.slice(ORT_URL_PREFIX.length);
      if (!this.ortFiles.has(name)) throw new HttpError(404, 'NOT_FOUND', `no onnxruntime-web file '${name}'; available: ${[...this.ortFiles].filter((f) => !f.endsWith('.map')).join(', ')}`);
      return sendFile(res, path.join(ortWebDist(), name), { ...ISOLATION_HEADERS, ...SHAREABLE_HEADERS });
    }
    exchange.route = 'not_found';
    throw new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${pathname}; see /openapi.json`);
  }

  private async routeModels(req: http.IncomingMessage, res: http.ServerResponse, exchange: Exchange, pathname: string): Promise<void> {
    const parts = pathname.split('/');
    // ['', 'v1', 'models', name?, operation?, file?]
    if (parts.length === 3 || (parts.length === 4 && parts[3] === '')) {
      exchange.route = 'models';
      allow(req, 'GET');
      return this.sendJson(res, exchange, 200, this.modelsJson);
    }
    if (parts[2] !== 'models') {
      exchange.route = 'not_found';
      throw new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${pathname}; see /openapi.json`);
    }
    const model = this.model(parts[3]);
    if (parts.length === 4) {
      exchange.route = 'model';
      allow(req, 'GET');
      return this.sendJson(res, exchange, 200, this.modelJson.get(model.name)!);
    }
    if (parts.length === 6 && parts[4] === 'artifacts') {
      exchange.route = 'artifact';
      allow(req, 'GET');
      const role = parts[5].replace(/\.onnx$/, '');
      const artifact = role === 'decoder' ? model.decoder : role === 'encoder' ? model.encoder : undefined;
      if (!artifact || !parts[5].endsWith('.onnx')) {
        throw new HttpError(404, 'NOT_FOUND', `model '${model.name}' has no artifact '${parts[5]}'; it has: ${servedRoles(model).map((r) => `${r}.onnx`).join(', ')}`);
      }
      return this.sendBytes(res, exchange, 'application/octet-stream', Buffer.from(artifact.bytes.buffer, artifact.bytes.byteOffset, artifact.bytes.byteLength), SHAREABLE_HEADERS);
    }
    const operation = parts[4] as Operation;
    if (parts.length !== 5 || !OPERATIONS.includes(operation)) {
      exchange.route = 'not_found';
      throw new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${pathname}; operations: ${OPERATIONS.join(', ')} (see /openapi.json)`);
    }
    exchange.route = operation;
    allow(req, 'POST');
    for (const role of OPERATION_NEEDS[operation]) {
      if (!model[role]) throw new HttpError(404, 'UNSUPPORTED_OPERATION', `model '${model.name}' has no ${role} artifact, which /${operation} needs; it has: ${servedRoles(model).join(', ')}`);
    }
    if (operation === 'sample' && !model.canSample) {
      throw new HttpError(404, 'UNSUPPORTED_OPERATION', `model '${model.name}' (family ${model.family}) cannot be sampled: ${model.decoder?.info.whyNoSample ?? 'no decoder'}; use /decode with your own z`);
    }
    const format = negotiate(req.headers.accept, operation === 'encode' ? ['json', 'octet'] : ['json', 'octet', 'png']);
    const body = await this.readJson(req, exchange);
    switch (operation) {
      case 'decode': {
        const input = parseDecodeBody(body, model, this.limits);
        const images = await this.decode(model, input.data, input.rows, input.labels);
        return this.sendImages(res, exchange, format, model, images, input.rows);
      }
      case 'sample': {
        const input = parseSampleBody(body, model, this.limits, () => randomInt(0, MAX_SEED + 1));
        const z = drawLatents(model.decoder!.info, input.rows, input.seed);
        const images = await this.decode(model, z, input.rows, input.labels);
        return this.sendImages(res, exchange, format, model, images, input.rows, { seed: input.seed, z });
      }
      case 'encode': {
        const input = parseImagesBody(body, model, this.limits);
        const codes = await this.encode(model, input.data, input.rows, input.labels);
        if (format === 'octet') return this.sendBytes(res, exchange, MEDIA_TYPES.octet, floatBytes(codes.z), rawHeaders([input.rows, model.latentSize], 'NC'));
        const logvar = codes.logvar ? `,"logvar":${rowsJson(codes.logvar, input.rows)}` : '';
        return this.sendJson(res, exchange, 200, `{"model":${JSON.stringify(model.name)},"latentSize":${model.latentSize},"z":${rowsJson(codes.z, input.rows)}${logvar}}`);
      }
      case 'reconstruct': {
        const input = parseImagesBody(body, model, this.limits);
        const codes = await this.encode(model, input.data, input.rows, input.labels);
        const images = await this.decode(model, codes.z, input.rows, input.labels);
        return this.sendImages(res, exchange, format, model, images, input.rows);
      }
    }
  }

  private model(encodedName: string): ServedModel {
    let name: string;
    try {
      name = decodeURIComponent(encodedName);
    } catch {
      name = encodedName;
    }
    const model = this.modelsByName.get(name);
    if (!model) throw new HttpError(404, 'UNKNOWN_MODEL', `no model '${name}'; models: ${[...this.modelsByName.keys()].join(', ')}`);
    return model;
  }

  private readJson(req: http.IncomingMessage, exchange: Exchange): Promise<unknown> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const max = this.options.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? NaN);
    const refuse = (error: HttpError): never => {
      // The rest of the body is not read; answering on a connection that still carries it would garble the next request.
      exchange.closeAfter = true;
      throw error;
    };
    if (!JSON_BODY_TYPES.test(type)) refuse(new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `request bodies are JSON; got Content-Type '${type}'`));
    if (declared > max) refuse(new HttpError(413, 'BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${max}`));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          exchange.closeAfter = true;
          req.removeAllListeners('data');
          reject(new HttpError(413, 'BODY_TOO_LARGE', `the body is over ${max} bytes (the limit)`));
          return;
        }
        chunks.push(chunk);
      });
      req.on('error', reject);
      req.on('end', () => {
        exchange.bodyDone = true;
        const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)).toString('utf8');
        if (text.trim() === '') {
          reject(new HttpError(400, 'MALFORMED_JSON', 'the body is empty; expected a JSON object (see /openapi.json)'));
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(new HttpError(400, 'MALFORMED_JSON', `the body is not valid JSON: ${(error as Error).message}`));
        }
      });
    });
  }

  private async runArtifact(artifact: ServedArtifact, feeds: RowFeeds, rows: number): Promise<RowFeeds> {
    const batcher = this.batchers.get(artifact)!;
    const pending = batcher.submit(feeds, rows);
    if (this.draining) batcher.flush();
    return pending;
  }

  private async decode(model: ServedModel, z: Float32Array, rows: number, labels?: Float32Array): Promise<Float32Array> {
    const decoder = model.decoder!;
    const feeds: RowFeeds = { [decoder.mainInput]: z };
    if (decoder.labelInput) feeds[decoder.labelInput] = labels!;
    const out = (await this.runArtifact(decoder, feeds, rows))[decoder.metadata.outputs[0].name];
    const bad = firstNonFinite(out);
    if (bad >= 0) throw new AekitError('SERVE_FAILED', `model '${model.name}' decoded a non-finite value (${out[bad]}) at index ${bad}`);
    return out;
  }

  private async encode(model: ServedModel, images: Float32Array, rows: number, labels?: Float32Array): Promise<{ z: Float32Array; logvar?: Float32Array }> {
    const encoder = model.encoder!;
    const feeds: RowFeeds = { [encoder.mainInput]: images };
    if (encoder.labelInput) feeds[encoder.labelInput] = labels!;
    const out = await this.runArtifact(encoder, feeds, rows);
    const z = out[encoder.info.codeOutput?.name ?? encoder.metadata.outputs[0].name];
    const bad = firstNonFinite(z);
    if (bad >= 0) throw new AekitError('SERVE_FAILED', `model '${model.name}' encoded a non-finite value (${z[bad]}) at index ${bad}`);
    return { z, logvar: out.logvar };
  }

  private sendImages(res: http.ServerResponse, exchange: Exchange, format: ResponseFormat, model: ServedModel, images: Float32Array, rows: number, sampled?: { seed: number; z: Float32Array }): void {
    const { channels, height, width } = model.imageShape;
    if (format === 'octet') {
      const extra: Record<string, string> = sampled ? { 'X-Aekit-Seed': String(sampled.seed) } : {};
      return this.sendBytes(res, exchange, MEDIA_TYPES.octet, floatBytes(images), { ...rawHeaders([rows, channels, height, width], 'NCHW'), ...extra });
    }
    if (format === 'png') return this.sendBytes(res, exchange, MEDIA_TYPES.png, imagesPng(images, model, rows), sampled ? { 'X-Aekit-Seed': String(sampled.seed) } : {});
    const extra = sampled ? `,"seed":${sampled.seed},"z":${rowsJson(sampled.z, rows)}` : '';
    const body = `{"model":${JSON.stringify(model.name)},"shape":[${rows},${channels},${height},${width}],"layout":"NCHW","valueRange":"${model.valueRange}","images":${rowsJson(images, rows)}${extra}}`;
    return this.sendJson(res, exchange, 200, body);
  }

  health(): HealthReport {
    const byArtifact: Record<string, BatchStats> = {};
    let total = emptyBatchStats();
    for (const model of this.models) {
      for (const role of servedRoles(model)) {
        const stats = this.batchers.get(model[role]!)!.stats;
        byArtifact[`${model.name}/${role}`] = { ...stats };
        total = addBatchStats(total, stats);
      }
    }
    return {
      status: this.draining ? 'draining' : 'ok',
      version: AEKIT_VERSION,
      uptimeSeconds: (Date.now() - this.startedAt) / 1000,
      executionProvider: this.runtime.report,
      models: this.models.map((m) => m.name),
      batching: { maxBatch: this.options.maxBatch, maxDelayMs: this.options.maxDelayMs, ...total },
      batchingByArtifact: byArtifact,
      inFlight: this.inFlight,
    };
  }

  private metrics(): string {
    const lines = ['# HELP aekit_requests_total HTTP requests answered, by route and status.', '# TYPE aekit_requests_total counter'];
    for (const [key, count] of [...this.requestCounts].sort()) {
      const [route, status] = key.split('|');
      lines.push(`aekit_requests_total{route="${route}",status="${status}"} ${count}`);
    }
    const counters: [keyof BatchStats, string, string][] = [
      ['runs', 'aekit_batch_runs_total', 'onnxruntime runs.'],
      ['requests', 'aekit_batch_requests_total', 'Requests served by those runs.'],
      ['rows', 'aekit_batch_rows_total', 'Rows computed.'],
      ['mergedRuns', 'aekit_batch_merged_runs_total', 'Runs that merged more than one request.'],
      ['mergedRequests', 'aekit_batch_merged_requests_total', 'Requests that shared a run.'],
    ];
    for (const [field, name, help] of counters) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const model of this.models) {
        for (const role of servedRoles(model)) lines.push(`${name}{model="${model.name}",part="${role}"} ${this.batchers.get(model[role]!)!.stats[field]}`);
      }
    }
    lines.push('# HELP aekit_in_flight_requests Requests being handled.', '# TYPE aekit_in_flight_requests gauge', `aekit_in_flight_requests ${this.inFlight}`);
    return lines.join('\n') + '\n';
  }

  /** Enter draining: answers carry `Connection: close` and queued rows run at once. */
  drain(): void {
    this.draining = true;
    for (const batcher of this.batchers.values()) batcher.flush();
  }
}

function allow(req: http.IncomingMessage, method: 'GET' | 'POST'): void {
  const actual = req.method === 'HEAD' && method === 'GET' ? 'GET' : req.method;
  if (actual === method) return;
  const error = new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${method}`);
  error.headers = { Allow: method === 'GET' ? 'GET, HEAD' : method };
  throw error;
}

function servedRoles(model: ServedModel): ServedRole[] {
  return (['decoder', 'encoder'] as const).filter((r) => model[r] !== undefined);
}

/** A model as `/v1/models` shows it. */
function describeModel(model: ServedModel): Record<string, unknown> {
  const roles = servedRoles(model);
  const operations = OPERATIONS.filter((op) => OPERATION_NEEDS[op].every((r) => model[r]) && (op !== 'sample' || model.canSample));
  return {
    name: model.name,
    family: model.family,
    latentSize: model.latentSize,
    conditional: model.conditional,
    ...(model.numClasses !== undefined ? { numClasses: model.numClasses } : {}),
    imageShape: model.imageShape,
    valueRange: model.valueRange,
    operations,
    artifacts: Object.fromEntries(roles.map((r) => [r, { url: `/v1/models/${encodeURIComponent(model.name)}/artifacts/${r}.onnx`, bytes: model[r]!.bytes.length }])),
    metadata: Object.fromEntries(roles.map((r) => [r, model[r]!.metadata])),
  };
}

function floatBytes(data: Float32Array): Buffer {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return HOST_IS_LITTLE_ENDIAN ? bytes : Buffer.from(bytes).swap32();
}

function rawHeaders(shape: number[], layout: string): Record<string, string> {
  return { 'X-Aekit-Shape': shape.join(','), 'X-Aekit-Dtype': 'float32', 'X-Aekit-Layout': layout, 'X-Aekit-Byte-Order': 'little-endian' };
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use; pick another with --port (0 = any free port)' : error.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : error.message;
      reject(new AekitError('SERVE_FAILED', `cannot listen on ${host}:${port}: ${why}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Load the artifacts, open onnxruntime-node sessions on the requested execution provider (with
 * the CPU fallback or refusal described on {@link ServeOptions}) and start listening.
 *
 * @throws AekitError for bad options, unreadable or inconsistent artifacts, an unusable provider
 *   under `strictExecutionProvider`, or a port that cannot be bound.
 */
export async function startServer(options: ServeOptions): Promise<AekitServer> {
  const o = resolveOptions(options);
  const logger = options.logger ?? silentLogger;
  const locations = typeof options.models === 'string' ? [options.models] : [...options.models];
  if (locations.length === 0) throw new AekitError('BAD_ARGUMENT', 'no model given (a .onnx artifact or a folder of them)', { where: 'models' });
  const models = await loadModels(locations, logger);
  const artifacts = models.flatMap((m) => servedRoles(m).map((r) => ({ model: m, artifact: m[r]! })));
  const { runtime, sessions } = await NodeRuntime.start(
    artifacts.map(({ artifact }) => ({ where: artifact.file, bytes: artifact.bytes, inputShapes: artifact.rowShapes })),
    { executionProvider: o.executionProvider, strict: o.strictExecutionProvider, intraOpNumThreads: o.intraOpNumThreads, logger },
  );
  const batchers = new Map<ServedArtifact, DynamicBatcher>();
  artifacts.forEach(({ model, artifact }, i) => {
    batchers.set(artifact, new DynamicBatcher(sessions[i], artifact.rowShapes, { maxBatch: o.maxBatch, maxDelayMs: o.maxDelayMs }, `${model.name}/${artifact.role}`, logger));
  });
  const releaseSessions = (all: NodeSession[]) => Promise.all(all.map((s) => s.release()));
  if (!existsSync(WEB_MODULE_FILE)) logger.warn(`${WEB_MODULE_FILE} is missing (run \`npm run build\`): the demo page will not load`);
  const service = new Service(o, models, batchers, runtime, await listOrtFiles(), logger);
  const server = http.createServer(service.handle);
  // Backstop for connections that never send a full request; the service's own timer answers first with JSON.
  server.requestTimeout = o.requestTimeoutMs + 1000;
  server.headersTimeout = Math.min(60_000, server.requestTimeout);
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify(new HttpError(status, status === 408 ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST', `malformed HTTP request (${error.code ?? error.message})`));
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  try {
    await listen(server, o.port, o.host);
  } catch (error) {
    await releaseSessions(sessions);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}`;
  logger.info(`serving ${models.map((m) => `${m.name} (${servedRoles(m).join('+')})`).join(', ')} on ${runtime.report.active}, batching ${o.maxBatch > 1 ? `up to ${o.maxBatch} rows / ${o.maxDelayMs} ms` : 'off'}`);

  let closing: Promise<{ forced: boolean }> | undefined;
  const close = (): Promise<{ forced: boolean }> => {
    closing ??= (async () => {
      service.drain();
      let forced = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        forced = true;
        logger.warn(`shutdown: connections still open after ${o.shutdownTimeoutMs} ms; closing them`);
        server.closeAllConnections();
      }, o.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      await releaseSessions(sessions);
      return { forced };
    })();
    return closing;
  };

  return {
    url,
    host: address.address,
    port: address.port,
    models,
    executionProvider: runtime.report,
    health: () => service.health(),
    close,
  };
}
