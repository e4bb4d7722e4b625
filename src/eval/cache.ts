/**
 * The on-disk cache of evaluation (reference FID statistics): where it lives, how entries are
 * keyed, and the digests that prove an entry's numbers are the ones written. Entries are plain JSON
 * files written atomically, so an interrupted run leaves no partial entry and a cache folder can
 * simply be deleted; an entry whose numbers were changed since (by hand, by a disk, by a tool that
 * rewrote NaN as null) no longer matches its digest and is recomputed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as path from 'node:path';

/** Environment variable that moves the cache (default: `<cwd>/.aekit-cache`). */
export const CACHE_DIR_ENV = 'AEKIT_CACHE_DIR';

/** Name of the default cache folder under the working directory (listed in .gitignore). */
export const DEFAULT_CACHE_FOLDER = '.aekit-cache';

/** The cache folder: `$AEKIT_CACHE_DIR` when set, else `<cwd>/.aekit-cache`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const fromEnv = env[CACHE_DIR_ENV];
  return fromEnv && fromEnv.trim() !== '' ? path.resolve(cwd, fromEnv) : path.join(cwd, DEFAULT_CACHE_FOLDER);
}

/** Hex SHA-256 of a file's bytes (streamed). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Hex SHA-256 of a string (cache file names from their keys). */
export function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hex SHA-256 of bytes already in memory. */
export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Hex SHA-256 of float64 arrays' values (little-endian, one after the other): the digest a cache
 * entry stores of its statistics, which JSON round-trips exactly.
 */
export function sha256Float64(...arrays: readonly Float64Array[]): string {
  const hash = createHash('sha256');
  for (const values of arrays) {
    const bytes = Buffer.alloc(values.length * 8);
    for (let i = 0; i < values.length; i++) bytes.writeDoubleLE(values[i], i * 8);
    hash.update(bytes);
  }
  return hash.digest('hex');
}
