/**
 * The HTTP framing of the server: one node:http request listener that checks the Host header,
 * finds the route, reads JSON bodies (UTF-8, optionally gzip-compressed) within the size and time
 * limits, writes the handler's {@link Reply}, turns client mistakes into JSON errors (server
 * faults into a 500, logged at most once a minute per kind), and counts requests by route and
 * status. It also answers, in the same JSON error shape, what node:http handles below the request
 * listener: unparsable requests, headers that are too large or too slow, unknown expectations and
 * CONNECT. While draining, every new request gets a 503 and every answer `Connection: close`.
 */
import * as http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import type { HostPolicy } from './hosts';
import { HttpError, rawErrorResponse } from './http-error';
import { LogThrottle } from './log-throttle';
import { bodyEncoding, checkJsonContentType } from './negotiation';
import { JSON_TYPE } from './replies';
import type { ErrorDialect, Reply, RouteRequest, Router } from './router';
import { sendFile } from './static-files';

/** Limits the front end enforces. */
export interface FrontendLimits {
  /** A request not answered within this many ms gets a 408 (body or headers still arriving) or 503. */
  requestTimeoutMs: number;
  /** Largest request body in bytes, as sent and once decompressed. */
  maxBodyBytes: number;
}

/** Per-request state the handler shares with the timeout and the counters. */
interface Exchange {
  route: string;
  bodyDone: boolean;
  /** Close the connection after answering (the body was not read to its end). */
  closeAfter: boolean;
  /** How errors on this path are written, when not in the server's own shape. */
  dialect?: ErrorDialect;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The request listener and its counters. */
export class HttpFrontend {
  private draining = false;
  private active = 0;
  private readonly counts = new Map<string, number>();
  private readonly throttle: LogThrottle;

  constructor(
    private readonly router: Router,
    private readonly limits: FrontendLimits,
    private readonly hosts: HostPolicy,
    logger: Logger,
  ) {
    this.throttle = new LogThrottle(logger);
  }

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

  /** From now on new requests get 503 SHUTTING_DOWN, and answers carry `Connection: close`. */
  drain(): void {
    this.draining = true;
  }

  /** Listen to `server`'s requests and to the events node:http would otherwise answer itself, without a JSON body. */
  attach(server: http.Server): void {
    server.on('request', this.handle);
    // Expect: 100-continue is answered when the body is read, so a refused request never sends it.
    server.on('checkContinue', this.handle);
    server.on('checkExpectation', this.handle);
    server.on('clientError', this.answerClientError);
    server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
      this.count('connect', 405);
      socket.end(rawErrorResponse(new HttpError(405, 'METHOD_NOT_ALLOWED', 'CONNECT is not allowed: this server is not a proxy')));
    });
  }

  /** The node:http request listener. */
  readonly handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const exchange: Exchange = { route: 'unknown', bodyDone: false, closeAfter: false, dialect: this.router.dialectOf(req.url ?? '/') };
    this.active++;
    const timer = setTimeout(() => this.timeout(res, exchange), this.limits.requestTimeoutMs);
    res.on('close', () => {
      clearTimeout(timer);
      this.active--;
      this.count(exchange.route, res.statusCode);
    });
    this.dispatch(req, res, exchange).catch((error: unknown) => this.fail(res, exchange, error));
  };

  /**
   * node:http's `clientError` listener: a request that is not HTTP, or whose headers are too large
   * or too slow, gets a JSON error and the connection is closed.
   */
  readonly answerClientError = (error: NodeJS.ErrnoException, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    let answer: HttpError;
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      answer = new HttpError(431, 'HEADERS_TOO_LARGE', `the request line and headers are over ${http.maxHeaderSize} bytes, the server's limit`);
    } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      answer = new HttpError(408, 'REQUEST_TIMEOUT', `the request headers did not arrive within ${this.limits.requestTimeoutMs} ms (--timeout-ms)`);
    } else {
      const reason = (error as { reason?: unknown }).reason;
      answer = new HttpError(400, 'BAD_REQUEST', `malformed HTTP request (${error.code ?? 'parse error'}${typeof reason === 'string' ? `: ${reason}` : ''})`);
    }
    this.count('unknown', answer.status);
    const packet = (error as { rawPacket?: unknown }).rawPacket;
    socket.end(rawErrorResponse(answer, Buffer.isBuffer(packet) && packet.subarray(0, 5).toString('latin1') === 'HEAD '));
  };

  private count(route: string, status: number): void {
    const key = `${route}|${status}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, exchange: Exchange): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const match = this.router.match(req.method ?? 'GET', query >= 0 ? url.slice(0, query) : url);
    exchange.route = 'notFound' in match ? 'not_found' : match.route.name;
    if (this.draining) {
      exchange.closeAfter = true;
      throw new HttpError(503, 'SHUTTING_DOWN', 'the server is shutting down and takes no new requests; send it again (to another instance)');
    }
    this.hosts.check(req.rawHeaders, req.httpVersion);
    const expect = req.headers.expect?.toLowerCase();
    if (expect !== undefined && expect !== '100-continue') throw new HttpError(417, 'EXPECTATION_FAILED', `Expect: '${req.headers.expect}' is not supported; only 100-continue is`);
    if ('notFound' in match) throw match.notFound;
    if ('notAllowed' in match) throw match.notAllowed;
    const request: RouteRequest = {
      params: match.params,
      accept: req.headers.accept,
      header: (name) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      },
      json: async () => parseJsonBody(await this.readBody(req, res, exchange, checkJsonContentType)),
      bytes: (checkType) => this.readBody(req, res, exchange, checkType),
    };
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
    if (!(error instanceof HttpError)) {
      const message = error instanceof AekitError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
      this.throttle.log('error', `${exchange.route}|${message}`, () => `${exchange.route}: ${(error as Error)?.stack ?? String(error)}`);
      error = new HttpError(500, 'INTERNAL', message);
    }
    const answer = error as HttpError;
    if (answer.report) this.throttle.log('warn', `${exchange.route}|${answer.code}`, () => `${exchange.route}: ${answer.report}`);
    const { body, headers } = exchange.dialect?.reply(answer) ?? { body: JSON.stringify(answer), headers: {} };
    void this.send(res, exchange, { status: answer.status, contentType: JSON_TYPE, body, headers: { ...answer.headers, ...headers } });
  }

  private readBody(req: http.IncomingMessage, res: http.ServerResponse, exchange: Exchange, checkType: (contentType: string | undefined) => void): Promise<Buffer> {
    const max = this.limits.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? NaN);
    let encoding: ReturnType<typeof bodyEncoding>;
    try {
      checkType(req.headers['content-type']);
      encoding = bodyEncoding(req.headers['content-encoding']);
      if (declared > max) throw new HttpError(413, 'BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${max}`);
    } catch (error) {
      // The body is not read; answering on a connection that still carries it would garble the next request.
      exchange.closeAfter = true;
      return Promise.reject(error);
    }
    if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let sent = 0;
      const gunzip = encoding === 'gzip' ? createGunzip() : undefined;
      const refuse = (error: HttpError) => {
        exchange.closeAfter = true;
        req.removeAllListeners('data');
        if (gunzip) {
          req.unpipe(gunzip);
          gunzip.destroy();
        }
        // Read the rest and drop it, so the connection closes cleanly after the answer.
        req.resume();
        reject(error);
      };
      if (gunzip) {
        req.on('data', (chunk: Buffer) => {
          sent += chunk.length;
          if (sent > max) refuse(new HttpError(413, 'BODY_TOO_LARGE', `the body is over ${max} bytes (the limit)`));
        });
      }
      // A client that goes away mid-body is not a server fault: nobody is left to answer, and nothing is logged.
      req.on('error', () => reject(new HttpError(400, 'BAD_REQUEST', 'the client closed the connection before the body arrived')));
      const body: Readable = gunzip ? req.pipe(gunzip) : req;
      gunzip?.on('error', (error) => refuse(new HttpError(400, 'BAD_ENCODING', `the body is not valid gzip (Content-Encoding: gzip): ${error.message}`)));
      body.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          refuse(new HttpError(413, 'BODY_TOO_LARGE', gunzip ? `the decompressed body is over ${max} bytes (the limit)` : `the body is over ${max} bytes (the limit)`));
          return;
        }
        chunks.push(chunk);
      });
      body.on('end', () => {
        exchange.bodyDone = true;
        resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
      });
    });
  }
}

/**
 * A JSON body's value.
 * @param what - names the bytes in messages (a v2 binary request's JSON header is part of its body)
 * @throws HttpError 400 MALFORMED_JSON for bytes that are not UTF-8, are empty or are not JSON.
 */
export function parseJsonBody(bytes: Buffer, what = 'the body'): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new HttpError(400, 'MALFORMED_JSON', `${what} is not valid UTF-8; JSON bodies are UTF-8`);
  }
  if (text.trim() === '') throw new HttpError(400, 'MALFORMED_JSON', `${what} is empty; expected a JSON object (see /openapi.json)`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'MALFORMED_JSON', `${what} is not valid JSON: ${(error as Error).message}`);
  }
}
