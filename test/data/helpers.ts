import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { isAekitError, type AekitErrorCode } from '../../src/core/errors';

/** Folder of the committed data fixtures. */
export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'data');

/** Asserts that `error` is an AekitError with `code` whose message contains every `parts` string. */
export function assertAekitError(error: unknown, code: AekitErrorCode, ...parts: string[]): void {
  assert.ok(isAekitError(error), `expected an AekitError, got ${String(error)}`);
  assert.equal(error.code, code, `wrong code for: ${error.message}`);
  for (const part of parts) assert.ok(error.message.includes(part), `message "${error.message}" should mention "${part}"`);
}

/** Runs `fn` (sync or async), expecting it to throw an AekitError (see {@link assertAekitError}). */
export async function expectAekitError(
  fn: () => unknown,
  code: AekitErrorCode,
  ...parts: string[]
): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, 'expected an error, nothing was thrown');
  assertAekitError(thrown, code, ...parts);
}

/** A fresh temporary folder (the calling suite removes it in its `after` hook). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `aekit-data-${prefix}-`));
}

/** Writes a file, creating its parent folders. */
export function writeFile(file: string, bytes: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
}

/** Writes an RGBA PNG. */
export function writeRgbaPng(file: string, width: number, height: number, rgba: number[]): void {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  writeFile(file, PNG.sync.write(png));
}

/** A uniform gray PNG of the given size. */
export function writeGrayPng(file: string, width: number, height: number, value = 128): void {
  const rgba: number[] = [];
  for (let i = 0; i < width * height; i++) rgba.push(value, value, value, 255);
  writeRgbaPng(file, width, height, rgba);
}
