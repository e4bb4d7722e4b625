/** Reading JSON files with errors that name the file and say what it was meant to be. */
import { promises as fs } from 'node:fs';
import { AekitError } from './errors';
import type { AekitErrorCode } from './errors';

/** Options of {@link readJsonFile}. */
export interface ReadJsonOptions {
  /** What the file is, for the error when it cannot be read (e.g. 'config file'). */
  what?: string;
  /** Error code when the text is not valid JSON (default BAD_CONFIG). */
  invalidCode?: AekitErrorCode;
  /** Require a JSON object (not an array or a scalar). */
  object?: boolean;
}

/**
 * Parse a JSON file.
 * @throws AekitError FILE_NOT_FOUND when it cannot be read, `invalidCode` when it is not valid
 *   JSON (or not an object when `object` is set), both naming the file.
 */
export async function readJsonFile(file: string, options: ReadJsonOptions = {}): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new AekitError('FILE_NOT_FOUND', `cannot read ${options.what ?? 'file'}`, { where: file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AekitError(options.invalidCode ?? 'BAD_CONFIG', `not valid JSON: ${(error as Error).message}`, { where: file });
  }
  if (options.object && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new AekitError(options.invalidCode ?? 'BAD_CONFIG', 'not valid JSON: expected a JSON object', { where: file });
  }
  return value;
}
