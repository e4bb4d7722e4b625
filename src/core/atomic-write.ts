/**
 * Writes that never leave a partial file: data goes to a temporary file in the target's directory
 * (same filesystem, so the final step is atomic) and is then moved into place.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AekitError } from './errors';

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
}

/** Write an ONNX artifact atomically; see {@link writeFileAtomic}. */
export async function writeOnnxAtomic(path: string, bytes: Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  if (bytes.length === 0) throw new AekitError('BAD_ARGUMENT', 'refusing to write an empty ONNX file', { where: path });
  await writeFileAtomic(path, bytes, opts);
}
