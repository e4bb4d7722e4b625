/**
 * Writes that never leave a partial file: data goes to a temporary file in the target's directory
 * (same filesystem, so the final step is atomic), is flushed to disk, and is then moved into place.
 * A writer killed before the move leaves its temporary file, named `.<name>.<pid>.<random>.tmp`
 * ({@link atomicTempOwner} reads the pid back) for the next owner of the folder to remove.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AekitError } from './errors';
import { faultPoint } from './fault-point';

/** Options of {@link writeFileAtomic} and {@link writeOnnxAtomic}. */
export interface AtomicWriteOptions {
  /** Replace an existing file (the CLI's `--force`). */
  force?: boolean;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function alreadyExists(path: string): AekitError {
  return new AekitError('ALREADY_EXISTS', 'refusing to overwrite an existing file; use force (--force) to replace it', { where: path });
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
}

/**
 * Write `data` to `path` atomically, creating parent directories. Without `force`, an existing
 * file is an ALREADY_EXISTS error, checked again at the final step (a hard link, which fails
 * rather than replaces) so that a file appearing meanwhile is not clobbered either.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  if (!opts.force && (await exists(path))) throw alreadyExists(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    faultPoint(`write:${basename(path)}`);
    if (opts.force) {
      await rename(temp, path);
    } else {
      try {
        await link(temp, path);
      } catch (error) {
        if (errorCode(error) === 'EEXIST') throw alreadyExists(path);
        // Filesystems without hard links: fall back to rename after the existence check above.
        if (errorCode(error) !== 'EPERM' && errorCode(error) !== 'ENOTSUP' && errorCode(error) !== 'ENOSYS') throw error;
        await rename(temp, path);
      }
    }
  } catch (error) {
    if (error instanceof AekitError) throw error;
    throw new AekitError('EXPORT_FAILED', `cannot write file: ${(error as Error).message}`, { where: path, cause: error });
  } finally {
    // After a rename the temp name is gone; after a link or a failure it must not stay behind.
    await rm(temp, { force: true });
  }
  // The new name lasts a power cut only once its directory is on disk too.
  await syncDirectory(dir);
}

/** Flush a directory's entries (a rename into it) to disk; a no-op where directories cannot be opened (Windows). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM on platforms without directory handles: the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}

/**
 * The process id in the name of a temporary file {@link writeFileAtomic} left behind
 * (`.<name>.<pid>.<12 hex>.tmp`), or undefined for any other name.
 */
export function atomicTempOwner(name: string): number | undefined {
  const match = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Write an ONNX artifact atomically; see {@link writeFileAtomic}. */
export async function writeOnnxAtomic(path: string, bytes: Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  if (bytes.length === 0) throw new AekitError('BAD_ARGUMENT', 'refusing to write an empty ONNX file', { where: path });
  await writeFileAtomic(path, bytes, opts);
}
