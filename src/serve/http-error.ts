/**
 * Errors a client caused, with their HTTP status. The server turns every one into a JSON body
 * `{"error": {"status", "code", "message", "where"?}}`; anything else thrown while handling a
 * request is a server fault (500) and is logged.
 */

/** Codes of client errors, stable for clients to switch on. */
export type HttpErrorCode =
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'UNKNOWN_MODEL'
  | 'UNSUPPORTED_OPERATION'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_ACCEPTABLE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'MALFORMED_JSON'
  | 'INVALID_BODY'
  | 'TOO_MANY_ROWS'
  | 'WRONG_SIZE'
  | 'NOT_FINITE'
  | 'OUT_OF_RANGE'
  | 'BAD_LABEL'
  | 'REQUEST_TIMEOUT'
  | 'SHUTTING_DOWN'
  | 'INTERNAL';

/** A failure with an HTTP status and a message that says what was expected and what was found. */
export class HttpError extends Error {
  /** Extra response headers (e.g. `Allow` on a 405). */
  headers: Record<string, string> = {};

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
  toJSON(): { error: { status: number; code: HttpErrorCode; message: string; where?: string } } {
    return { error: { status: this.status, code: this.code, message: this.message, ...(this.where ? { where: this.where } : {}) } };
  }
}

/** 400 for a request body field. */
export function badField(code: HttpErrorCode, where: string, message: string): HttpError {
  return new HttpError(400, code, `${where}: ${message}`, where);
}
