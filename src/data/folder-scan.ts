import * as fs from 'node:fs';
import * as path from 'node:path';
import { SKIP_REASONS } from './decode-types';
import type { SkippedFile } from './types';

/**
 * The layout of an image folder, read from names alone (nothing is decoded here): which folders
 * are classes, which files are candidate images, which entries are skipped (with a reason) and
 * which are hidden or system entries that are passed over silently. Cheap enough to run before a
 * long job to check its data (e.g. that a conditional model gets labelled images).
 */

/** File extensions read as images (case-insensitive); the format is then told by magic bytes. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.jpe', '.jfif'];

/** Extensions of image formats aekit does not decode: skipped as "unsupported image format", not as "not an image". */
const OTHER_IMAGE_EXTENSIONS: ReadonlyMap<string, string> = new Map([
  ['.gif', 'GIF'],
  ['.bmp', 'BMP'],
  ['.webp', 'WebP'],
  ['.tif', 'TIFF'],
  ['.tiff', 'TIFF'],
  ['.heic', 'HEIF/AVIF'],
  ['.heif', 'HEIF/AVIF'],
  ['.avif', 'HEIF/AVIF'],
  ['.jxl', 'JPEG XL'],
  ['.jp2', 'JPEG 2000'],
  ['.j2k', 'JPEG 2000'],
  ['.svg', 'SVG'],
  ['.ico', 'ICO'],
  ['.pbm', 'PNM'],
  ['.pgm', 'PNM'],
  ['.ppm', 'PNM'],
  ['.pnm', 'PNM'],
  ['.tga', 'TGA'],
  ['.psd', 'PSD'],
  ['.exr', 'OpenEXR'],
  ['.hdr', 'Radiance HDR'],
]);

/**
 * Names that operating systems and archivers leave in folders (compared case-insensitively):
 * macOS's __MACOSX folder in zips, Windows' thumbnail caches and folder settings, Synology's
 * @eaDir. Like dot files ('.DS_Store', '._x.png' resource forks, '.git'), they are never data.
 */
const SYSTEM_NAMES: ReadonlySet<string> = new Set(['__macosx', 'thumbs.db', 'ehthumbs.db', 'desktop.ini', '$recycle.bin', 'system volume information', '@eadir']);

/** True for hidden and system entries, which every folder reader passes over silently. */
export function isHiddenEntry(name: string): boolean {
  return name.startsWith('.') || SYSTEM_NAMES.has(name.toLowerCase());
}

/** A folder that directly holds images: one class. */
export interface ClassFolder {
  /** Path relative to the root ('.' for images in the root itself). */
  name: string;
  /** Image files relative to the root, sorted by name. */
  files: string[];
}

/** The layout of a folder (see the module comment). */
export interface FolderScan {
  /** Classes sorted by name; for a flat folder, one entry named '.'. */
  classes: ClassFolder[];
  /** True when images lie only in the root: one unlabelled set rather than a class. */
  flat: boolean;
  /** Leaf folders with nothing in them but hidden entries: an empty class, most likely by mistake. */
  emptyLeaves: string[];
  /** Entries skipped by name (not images, unsupported formats, unreadable folders). */
  skipped: SkippedFile[];
  /** Hidden and system entries passed over. */
  ignored: number;
}

/** Plain code-unit order, so class indices never depend on the machine's locale. */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

/** The skip record of a file whose name says it is not a PNG/JPEG image. */
function skippedByName(relative: string, name: string): SkippedFile {
  const ext = path.extname(name).toLowerCase();
  const format = OTHER_IMAGE_EXTENSIONS.get(ext);
  if (format) return { file: relative, reason: SKIP_REASONS.unsupportedFormat, kind: format, detail: `${format} image; aekit reads PNG and JPEG` };
  return { file: relative, reason: SKIP_REASONS.notImage, kind: ext || '(no extension)' };
}

/**
 * Scans `root` (which must be a readable folder): classes are the folders that directly contain
 * images, named by their path relative to the root, so both Omniglot's alphabet/character/*.png
 * and LFW's person/*.jpg work; a folder with images only at its top is flat. Symbolic links are
 * followed.
 */
export async function scanFolder(root: string): Promise<FolderScan> {
  const scan: FolderScan = { classes: [], flat: false, emptyLeaves: [], skipped: [], ignored: 0 };
  const visit = async (dir: string): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (dir === root) throw error;
      scan.skipped.push({ file: toPosix(path.relative(root, dir)), reason: SKIP_REASONS.unreadable, kind: 'folder', detail: (error as Error).message });
      return;
    }
    entries.sort((a, b) => byName(a.name, b.name));
    const images: string[] = [];
    const subdirs: string[] = [];
    let others = 0;
    for (const entry of entries) {
      if (isHiddenEntry(entry.name)) {
        scan.ignored++;
        continue;
      }
      const full = path.join(dir, entry.name);
      const relative = toPosix(path.relative(root, full));
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const stat = await fs.promises.stat(full).catch(() => undefined);
        isDir = stat?.isDirectory() ?? false;
        isFile = stat?.isFile() ?? false;
        if (!stat) {
          scan.skipped.push({ file: relative, reason: SKIP_REASONS.unreadable, kind: 'broken link', detail: 'a symbolic link to nothing' });
          others++;
          continue;
        }
      }
      if (isDir) {
        subdirs.push(full);
      } else if (isFile && IMAGE_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) {
        images.push(relative);
      } else {
        scan.skipped.push(skippedByName(relative, entry.name));
        others++;
      }
    }
    if (images.length > 0) {
      scan.classes.push({ name: dir === root ? '.' : toPosix(path.relative(root, dir)), files: images });
    } else if (subdirs.length === 0 && others === 0 && dir !== root) {
      scan.emptyLeaves.push(toPosix(path.relative(root, dir)));
    }
    for (const sub of subdirs) await visit(sub);
  };
  await visit(root);
  scan.classes.sort((a, b) => byName(a.name, b.name));
  scan.flat = scan.classes.length === 1 && scan.classes[0].name === '.';
  return scan;
}
