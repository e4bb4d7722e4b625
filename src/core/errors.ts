/**
 * Typed errors. Every failure a user can cause (bad file, bad config field, bad value) is an
 * {@link AekitError} with a stable `code`, and its message says what was expected, what was found
 * and where. The CLI prints these without a stack trace; anything else is a bug and keeps its stack.
 */

/** Stable error codes, grouped by stage. */
export type AekitErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_ARGUMENT'
  | 'BAD_DATA'
  | 'FILE_NOT_FOUND'
  | 'UNKNOWN_NAME'
  | 'DUPLICATE_NAME'
  | 'BACKEND_UNAVAILABLE'
  | 'NON_FINITE_LOSS'
  | 'BAD_CHECKPOINT'
  | 'EXPORT_FAILED'
  | 'VERIFY_FAILED'
  | 'EVAL_FAILED'
  | 'SERVE_FAILED'
  | 'ALREADY_EXISTS'
  /** A cluster scheduler (Slurm) is missing, refused a job, or cannot be reached. */
  | 'EXECUTOR_FAILED';

/** An error the user can act on. `where` names the file, field or layer involved, when there is one. */
export class AekitError extends Error {
  readonly code: AekitErrorCode;
  readonly where?: string;

  constructor(code: AekitErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(options.where ? `${options.where}: ${message}` : message, { cause: options.cause });
    this.name = 'AekitError';
    this.code = code;
    this.where = options.where;
  }
}

/** True for errors produced by aekit on purpose (as opposed to bugs). */
export function isAekitError(error: unknown): error is AekitError {
  return error instanceof AekitError;
}

/** Error for a name that is not in a registry, listing the valid ones. */
export function unknownName(kind: string, name: string, valid: readonly string[]): AekitError {
  return new AekitError('UNKNOWN_NAME', `unknown ${kind} '${name}'; expected one of: ${valid.join(', ')}`);
}
