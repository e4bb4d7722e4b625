/**
 * `aekit serve`'s library half: an HTTP server (node:http, no framework) over onnxruntime-node
 * sessions with dynamic batching, the JSON API described at `/openapi.json`, the demo page and the
 * browser files. Client mistakes become 4xx JSON errors; only server faults are 5xx. `close()`
 * drains: stop accepting, finish what is in flight, then release the sessions.
 */
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { DynamicBatcher } from './batcher';
import { answerClientError, HttpFrontend } from './http-frontend';
import { loadModels } from './models';
import type { ServedArtifact, ServedModel } from './models';
import { checkExecutionProvider, NodeRuntime } from './node-session';
import type { ExecutionProviderName, ExecutionProviderReport, NodeSession } from './node-session';
import { Inference, servedRoles } from './operations';
import { Router } from './router';
import { noRoute, serveRoutes } from './routes';
import { healthReport, metricsText } from './status';
import type { HealthReport } from './status';
import { listOrtFiles, WEB_MODULE_FILE } from './static-files';

export type { HealthReport } from './status';

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
  const inference = new Inference(models, batchers);
  const startedAt = Date.now();
  // health and metrics read the front end's counters (it is created below, before any request).
  const health = (): HealthReport =>
    healthReport({
      draining: frontend.isDraining,
      startedAt,
      executionProvider: runtime.report,
      models: models.map((m) => m.name),
      limits: { maxBatch: o.maxBatch, maxDelayMs: o.maxDelayMs },
      artifacts: inference.stats(),
      inFlight: frontend.inFlight,
    });
  const routes = serveRoutes({
    inference,
    limits: { maxRowsPerRequest: o.maxRowsPerRequest },
    ortFiles: await listOrtFiles(),
    health,
    metrics: () => metricsText(frontend.requestCounts, inference.stats(), frontend.inFlight),
  });
  const frontend = new HttpFrontend(new Router(routes, noRoute), { requestTimeoutMs: o.requestTimeoutMs, maxBodyBytes: o.maxBodyBytes }, logger);
  const server = http.createServer(frontend.handle);
  // Backstop for connections that never send a full request; the front end's own timer answers first with JSON.
  server.requestTimeout = o.requestTimeoutMs + 1000;
  server.headersTimeout = Math.min(60_000, server.requestTimeout);
  server.on('clientError', answerClientError);
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
      frontend.drain();
      inference.drain();
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
    health,
    close,
  };
}
