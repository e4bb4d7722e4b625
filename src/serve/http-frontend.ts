/**
 * The HTTP framing of the server: one node:http request listener that finds the route, reads JSON
 * bodies within the size and time limits, writes the handler's {@link Reply}, turns client
 * mistakes into JSON errors (server faults into a logged 500), and counts requests by route and
 * status. While draining, answers carry `Connection: close`.
 */
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { HttpError } from './http-error';
import { JSON_TYPE } from './replies';
import type { Reply, RouteRequest, Router } from './router';
import { sendFile } from './static-files';

/** Content types accepted for request bodies: JSON, and what curl's `-d` sends by default. */
const JSON_BODY_TYPES = /^(|application\/json|application\/[\w.+-]*\+json|text\/plain|application\/x-www-form-urlencoded)$/;

/** Limits the front end enforces. */
export interface FrontendLimits {
  /** A request not answered within this many ms gets a 408 (body still arriving) or 503. */
  requestTimeoutMs: number;
  /** Largest request body in bytes. */
  maxBodyBytes: number;
}

/** Per-request state the handler shares with the timeout and the counters. */
interface Exchange {
  route: string;
  bodyDone: boolean;
  /** Close the connection after answering (the body was not read to its end). */
  closeAfter: boolean;
}

/** The request listener and its counters. */
export class HttpFrontend {
  private draining = false;
  private active = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly router: Router,
    private readonly limits: FrontendLimits,
    private readonly logger: Logger,
  ) {}

  /** Requests being handled. */
  get inFlight(): number {
    return this.active;
  }

  /** Answered requests by `<route>|<status>`. */
  get requestCounts(): ReadonlyMap<string, number> {
    return this.counts;
  }

  /** True once {@link drain} was called. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** From now on answers carry `Connection: close`. */
  drain(): void {
    this.draining = true;
  }

  /** The node:http request listener. */
  readonly handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const exchange: Exchange = { route: 'unknown', bodyDone: false, closeAfter: false };
    this.active++;
    const timer = setTimeout(() => this.timeout(res, exchange), this.limits.requestTimeoutMs);
    res.on('close', () => {
      clearTimeout(timer);
      this.active--;
      const key = `${exchange.route}|${res.statusCode}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    });
    this.dispatch(req, res, exchange).catch((error: unknown) => this.fail(res, exchange, error));
  };

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, exchange: Exchange): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const pathname = query >= 0 ? url.slice(0, query) : url;
    const match = this.router.match(req.method ?? 'GET', pathname);
    if ('notFound' in match) {
      exchange.route = 'not_found';
      throw match.notFound;
    }
    exchange.route = match.route.name;
    if ('notAllowed' in match) throw match.notAllowed;
    const request: RouteRequest = { params: match.params, accept: req.headers.accept, json: () => this.readJson(req, exchange) };
    await this.send(res, exchange, await match.route.handle(request));
  }

  private async send(res: http.ServerResponse, exchange: Exchange, reply: Reply): Promise<void> {
    if (res.headersSent || res.destroyed) return;
    if ('file' in reply) return sendFile(res, reply.file, reply.headers);
    const length = typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.length;
    const headers = { 'Content-Type': reply.contentType, 'Content-Length': String(length), ...reply.headers };
    res.writeHead(reply.status, this.draining || exchange.closeAfter ? { ...headers, Connection: 'close' } : headers);
    res.end(reply.body);
  }

  private timeout(res: http.ServerResponse, exchange: Exchange): void {
    exchange.closeAfter = true;
    const ms = this.limits.requestTimeoutMs;
    const error = exchange.bodyDone
      ? new HttpError(503, 'REQUEST_TIMEOUT', `the request was not answered within ${ms} ms`)
      : new HttpError(408, 'REQUEST_TIMEOUT', `the request body did not arrive within ${ms} ms`);
    this.fail(res, exchange, error);
  }

  private fail(res: http.ServerResponse, exchange: Exchange, error: unknown): void {
    if (error instanceof HttpError) {
      void this.send(res, exchange, { status: error.status, contentType: JSON_TYPE, body: JSON.stringify(error), headers: error.headers });
      return;
    }
    this.logger.error(`${exchange.route}: ${(error as Error)?.stack ?? String(error)}`);
    const message = error instanceof AekitError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
    void this.send(res, exchange, { status: 500, contentType: JSON_TYPE, body: JSON.stringify(new HttpError(500, 'INTERNAL', message)) });
  }

  private readJson(req: http.IncomingMessage, exchange: Exchange): Promise<unknown> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const max = this.limits.maxBodyBytes;
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
}

/**
 * node:http's `clientError` listener: a request that is not HTTP (or whose headers are too large or
 * too slow) gets a JSON error and the connection is closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify(new HttpError(status, status === 408 ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST', `malformed HTTP request (${error.code ?? error.message})`));
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
