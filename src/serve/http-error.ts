/**
 * Errors a client caused, with their HTTP status. The server turns every one into a JSON body
 * `{"error": {"status", "code", "message", "where"?}}`, from whichever layer answers: a route, the
 * HTTP front end, or the socket-level handlers for requests node:http cannot parse (see
 * {@link rawErrorResponse}). Anything else thrown while handling a request is a server fault (500).
 */
import { STATUS_CODES } from 'node:http';

/**
 * Every error code with the statuses it is sent with. A code names the fault, the status its HTTP
 * class; the pair always agrees (the fuzz suite in test/serve checks every answer against this
 * table, and `/openapi.json` lists the codes).
 */
export const ERROR_STATUSES = Object.freeze({
  BAD_REQUEST: [400],
  BAD_HOST: [400],
  HOST_NOT_ALLOWED: [403],
  NOT_FOUND: [404],
  UNKNOWN_MODEL: [404],
  UNSUPPORTED_OPERATION: [404],
  METHOD_NOT_ALLOWED: [405],
  NOT_ACCEPTABLE: [406],
  UNSUPPORTED_MEDIA_TYPE: [415],
  UNSUPPORTED_ENCODING: [415],
  BAD_ENCODING: [400],
  BODY_TOO_LARGE: [413],
  HEADERS_TOO_LARGE: [431],
  EXPECTATION_FAILED: [417],
  MALFORMED_JSON: [400],
  INVALID_BODY: [400],
  TOO_MANY_ROWS: [400],
  WRONG_SIZE: [400],
  NOT_FINITE: [400],
  OUT_OF_RANGE: [400],
  BAD_LABEL: [400],
  OUTPUT_NOT_FINITE: [422],
  // 408: the request did not arrive in time; 503: it arrived, but its answer was not ready in time.
  REQUEST_TIMEOUT: [408, 503],
  SHUTTING_DOWN: [503],
  INTERNAL: [500],
} as const satisfies Record<string, readonly number[]>);

/** Codes of errors, stable for clients to switch on. */
export type HttpErrorCode = keyof typeof ERROR_STATUSES;

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { status: number; code: HttpErrorCode; message: string; where?: string };
}

/** A failure with an HTTP status and a message that says what was expected and what was found. */
export class HttpError extends Error {
  /** Extra response headers (e.g. `Allow` on a 405). */
  headers: Record<string, string> = {};
  /**
   * A line for the server's log: for faults an operator should hear about (a model producing
   * non-finite values) even though the client is answered with a 4xx. Logged rate-limited.
   */
  report?: string;

  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly where?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  /** The JSON body sent for this error. */
  toJSON(): ErrorBody {
    return { error: { status: this.status, code: this.code, message: this.message, ...(this.where ? { where: this.where } : {}) } };
  }
}

/** 400 for a request body field. */
export function badField(code: HttpErrorCode, where: string, message: string): HttpError {
  return new HttpError(400, code, `${where}: ${message}`, where);
}

/**
 * A whole HTTP/1.1 response for `error`, with `Connection: close`, for the handlers that answer on
 * the socket itself (requests node:http could not parse, timeouts before a request exists, CONNECT,
 * shutdown cutting a half-sent request): they still answer in the JSON error shape. `head`: the
 * request was a HEAD, so the body is left out.
 */
export function rawErrorResponse(error: HttpError, head = false): string {
  const body = JSON.stringify(error);
  const headers = Object.entries(error.headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  // The answer to HEAD has the headers of the answer to GET, and no body.
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${head ? '' : body}`;
}
