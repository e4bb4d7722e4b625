/**
 * `aekit serve`'s library half: an HTTP server (node:http, no framework) over onnxruntime-node
 * sessions with dynamic batching, the JSON API described at `/openapi.json`, the demo page and the
 * browser files. Client mistakes become 4xx JSON errors; only server faults are 5xx. `close()`
 * drains: stop accepting (answering 503 to what arrives meanwhile), finish what is in flight, then
 * release the sessions.
 */
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { DynamicBatcher } from './batcher';
import { Connections } from './connections';
import { HostPolicy } from './hosts';
import { HttpError } from './http-error';
import { HttpFrontend } from './http-frontend';
import { loadModels } from './models';
import type { ServedArtifact, ServedModel } from './models';
import { checkExecutionProvider, NodeRuntime } from './node-session';
import type { ExecutionProviderName, ExecutionProviderReport, NodeSession } from './node-session';
import { Inference, servedRoles } from './operations';
import { Router } from './router';
import { noRoute, serveRoutes } from './routes';
import { v2Models } from './v2/models';
import { V2_ERRORS } from './v2/routes';
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
  /**
   * Host names answered besides loopback names and IP addresses: names, `.domain` suffixes, or `*`
   * for any. Default: none on a loopback bind (a DNS-rebinding page gets 403), any on other binds.
   */
  allowedHosts?: readonly string[];
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
  /**
   * Limit in ms for each phase of a request (default 30 000): its headers must arrive within it of
   * their first byte and its body within it of the headers (else 408), and its answer must be ready
   * within it of the headers (else 503). A connection that sends nothing for this long is closed.
   */
  requestTimeoutMs?: number;
  /**
   * Drain limit of {@link AekitServer.close}, in ms (default 10 000): requests still unanswered
   * then get a 503 and their connections are closed.
   */
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

/** Bounds of the numeric options (inclusive) and their unit; the CLI derives its flags' ranges from them. */
export const SERVE_OPTION_BOUNDS = Object.freeze({
  port: { range: [0, 65535], unit: 'port' },
  maxBatch: { range: [1, 4096], unit: 'rows' },
  maxDelayMs: { range: [0, 1000], unit: 'ms' },
  maxRowsPerRequest: { range: [1, 65536], unit: 'rows' },
  maxBodyBytes: { range: [1024, 1024 ** 3], unit: 'bytes' },
  requestTimeoutMs: { range: [1, 3_600_000], unit: 'ms' },
  shutdownTimeoutMs: { range: [0, 3_600_000], unit: 'ms' },
  intraOpNumThreads: { range: [1, 256], unit: 'threads' },
} as const satisfies Record<string, { range: readonly [number, number]; unit: string }>);

/**
 * How often node:http checks for requests past their header deadline: its default, 30 s, is why
 * stalled headers used to be cut only after 30-60 s whatever the timeout said.
 */
function timeoutCheckIntervalMs(requestTimeoutMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(requestTimeoutMs / 10)));
}

/**
 * Longest the listener stays open on shutdown to take in the connections already waiting in its
 * backlog (each gets a 503); clients that keep connecting past this are refused.
 */
const LISTENER_DRAIN_MAX_MS = 1000;

/** After the drain limit, how long the 503s written to what is left may take to flush before the sockets are destroyed. */
const CUT_FLUSH_MS = 1000;

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

type Resolved = Required<Omit<ServeOptions, 'models' | 'logger' | 'allowedHosts'>>;

function resolveOptions(options: ServeOptions): Resolved {
  const out = { ...SERVE_DEFAULTS } as Resolved;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key === 'models' || key === 'logger' || key === 'allowedHosts') continue;
    (out as Record<string, unknown>)[key] = value;
  }
  for (const [key, { range: [lo, hi], unit }] of Object.entries(SERVE_OPTION_BOUNDS)) {
    const value = (out as Record<string, unknown>)[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
      throw new AekitError('BAD_ARGUMENT', `${key} must be a whole number in ${lo}..${hi}, got ${String(value)} (${unit})`, { where: key });
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
  const hosts = new HostPolicy(o.host, options.allowedHosts);
  const frontend = new HttpFrontend(new Router(routes, noRoute, [V2_ERRORS]), { requestTimeoutMs: o.requestTimeoutMs, maxBodyBytes: o.maxBodyBytes }, hosts, logger);
  // The Host header is checked by the front end, which answers a missing one in JSON (node's own answer has no body).
  const server = http.createServer({ requireHostHeader: false, connectionsCheckingInterval: timeoutCheckIntervalMs(o.requestTimeoutMs) });
  frontend.attach(server);
  const connections = new Connections(server, o.requestTimeoutMs);
  server.headersTimeout = o.requestTimeoutMs;
  // The front end bounds the body (and the answer) from the end of the headers; this is a backstop behind it.
  server.requestTimeout = 2 * o.requestTimeoutMs + 1000;
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
  logger.info(`v2 inference protocol (KServe / Triton HTTP) at /v2/models/<name>: ${v2Models(models).map((m) => m.name).join(', ')}`);

  let closing: Promise<{ forced: boolean }> | undefined;
  const close = (): Promise<{ forced: boolean }> => {
    closing ??= (async () => {
      frontend.drain();
      // Closing the listener resets the connections still in its backlog, which clients count as
      // connected. libuv accepts one pending connection per event-loop turn: turn until two turns
      // in a row bring none, so that the front end answers all of them 503. (Queued inference
      // runs after, so that its work does not hold the listener open.)
      const until = Date.now() + LISTENER_DRAIN_MAX_MS;
      for (let quiet = 0; quiet < 2 && Date.now() < until; ) {
        const seen = connections.accepted;
        await nextTurn();
        quiet = connections.accepted === seen ? quiet + 1 : 0;
      }
      // Only the listening socket: http.Server.close() would also destroy the connections whose
      // request node has not read yet (it counts them idle), resetting those requests.
      net.Server.prototype.close.call(server);
      inference.drain();
      connections.drain();
      const limit = delay(o.shutdownTimeoutMs);
      const forced = await Promise.race([connections.whenClosed().then(() => false), limit.done.then(() => true)]);
      limit.cancel();
      if (forced) {
        const ms = o.shutdownTimeoutMs;
        logger.warn(`shutdown: ${connections.size} connection(s) still open after ${ms} ms (the drain limit, --shutdown-timeout-ms); answering 503 and closing them`);
        connections.cut(new HttpError(503, 'SHUTTING_DOWN', `the server shut down before this request completed (its drain limit is ${ms} ms)`));
        const flush = delay(CUT_FLUSH_MS);
        await Promise.race([connections.whenClosed(), flush.done]);
        flush.cancel();
        connections.destroyAll();
      }
      // http.Server.close(): stops node's header-timeout checks (the listener is already closed).
      server.close();
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

/** Resolves after the event loop has gone once more through its poll phase (where connections are accepted). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A cancellable wait. */
function delay(ms: number): { done: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return { done, cancel: () => clearTimeout(timer) };
}
