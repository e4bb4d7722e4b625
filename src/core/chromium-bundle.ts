/**
 * The Chromium that ships inside the @sparticuz/chromium npm package (a devDependency), so that the
 * browser tests and `aekit bench` need no apt step. The package holds Brotli-compressed files; they
 * are unpacked once per package version into a folder of aekit's own under the temp dir:
 *
 *   <tmp>/aekit-chromium-<version>-<uid>/
 *     chromium                       the browser (a headless build)
 *     libvulkan.so.1                 Vulkan loader    } SwiftShader: WebGPU on the CPU, for this
 *     libvk_swiftshader.so           Vulkan driver    } Chromium and for onnxruntime-node's WebGPU
 *     vk_swiftshader_icd.json        driver manifest  } provider (see software-vulkan in browser.ts)
 *     libEGL.so, libGLESv2.so        ANGLE
 *     lib/                           NSS, for machines without libnss3 (used only when needed)
 *     fonts/, fonts.conf             Open Sans, on top of the system's fonts
 *     bundle.json                    written last: the folder is complete
 *
 * Why not the package's own `executablePath()`: it unpacks straight into the temp dir's root and
 * reuses any file called `chromium` there, whatever its version or state, so an interrupted unpack
 * or an older package leaves a broken browser; and its Vulkan loader would only be reachable with
 * `LD_LIBRARY_PATH=/tmp`, which lets anyone who can write to /tmp inject libraries. Here the
 * folder is per version and per user, built under a temporary name and renamed into place, so it
 * is either complete or absent.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';
import { AekitError } from './errors';
import { readTar } from './tar';

/** The npm package the bundled Chromium comes from. */
export const CHROMIUM_BUNDLE_PACKAGE = '@sparticuz/chromium';

/** Install command shown when the package is missing. */
export const CHROMIUM_BUNDLE_INSTALL = `npm install --save-dev ${CHROMIUM_BUNDLE_PACKAGE}`;

/** An unpacked bundle: the folder and the files in it that callers use. */
export interface ChromiumBundle {
  /** The folder everything was unpacked into. */
  dir: string;
  /** Version of the npm package (its major is Chromium's major). */
  packageVersion: string;
  /** The browser binary. */
  executablePath: string;
  /** SwiftShader's Vulkan driver manifest (its driver and the Vulkan loader sit next to it). */
  vulkanIcd: string;
  /** NSS and expat built for Amazon Linux 2023: the fallback when the system lacks them. */
  libDir: string;
  /** A fontconfig file: the system's configuration plus the bundled fonts. */
  fontConfigFile: string;
}

/** The files a complete bundle folder must hold (relative paths). */
const REQUIRED_FILES = ['chromium', 'libvulkan.so.1', 'libvk_swiftshader.so', 'vk_swiftshader_icd.json', 'lib/libnss3.so', 'fonts.conf'] as const;
/** Written last: its presence means the folder is complete. */
const MARKER = 'bundle.json';

/** The package's `bin` folder and version, or an error saying how to install it. */
function locatePackage(): { binDir: string; version: string } {
  let entry: string;
  try {
    entry = require.resolve(CHROMIUM_BUNDLE_PACKAGE);
  } catch {
    throw new AekitError('BACKEND_UNAVAILABLE', `${CHROMIUM_BUNDLE_PACKAGE} is not installed, so there is no bundled Chromium (${CHROMIUM_BUNDLE_INSTALL})`);
  }
  // The package exports only its entry (build/index.js); bin/ and package.json sit one level up.
  const root = path.resolve(path.dirname(entry), '..');
  let version: unknown;
  try {
    version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch (error) {
    throw new AekitError('BACKEND_UNAVAILABLE', `cannot read the package's version: ${(error as Error).message}`, { where: path.join(root, 'package.json') });
  }
  if (typeof version !== 'string') throw new AekitError('BACKEND_UNAVAILABLE', 'expected a "version" string, found none', { where: path.join(root, 'package.json') });
  return { binDir: path.join(root, 'bin'), version };
}

/** The folder a package version unpacks into (per user: another user's folder is not ours to trust). */
export function chromiumBundleDir(version: string, tmpRoot: string = os.tmpdir()): string {
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username;
  return path.join(tmpRoot, `aekit-chromium-${version}-${user}`);
}

function describe(dir: string, version: string): ChromiumBundle {
  return {
    dir,
    packageVersion: version,
    executablePath: path.join(dir, 'chromium'),
    vulkanIcd: path.join(dir, 'vk_swiftshader_icd.json'),
    libDir: path.join(dir, 'lib'),
    fontConfigFile: path.join(dir, 'fonts.conf'),
  };
}

/** Complete, and ours: a folder another user planted under our name must not be run. */
async function isComplete(dir: string): Promise<boolean> {
  const owner = await fs.stat(dir).then((s) => s.uid, () => undefined);
  if (owner === undefined || (typeof process.getuid === 'function' && owner !== process.getuid())) return false;
  const present = await Promise.all([MARKER, ...REQUIRED_FILES].map((file) => fs.access(path.join(dir, file)).then(() => true, () => false)));
  return present.every(Boolean);
}

/** Write a tar's members under `dir`; `skip` names members to leave out. */
async function unpackTar(archive: string, dir: string, skip: ReadonlySet<string> = new Set()): Promise<void> {
  const tar = brotliDecompressSync(await fs.readFile(archive));
  for (const entry of readTar(tar, archive)) {
    if (skip.has(entry.name)) continue;
    const target = path.join(dir, entry.name);
    if (entry.type === 'directory') await fs.mkdir(target, { recursive: true });
    else {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, entry.data, { mode: entry.mode || 0o644 });
    }
  }
}

/** Fontconfig: the system's configuration when there is one, plus the fonts that ship with the bundle. */
function fontConfig(dir: string): string {
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
    '<fontconfig>',
    '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
    `  <dir>${path.join(dir, 'fonts')}</dir>`,
    `  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>`,
    '</fontconfig>',
    '',
  ].join('\n');
}

/** Remove staging folders left by unpacks whose process died (a crash, a kill -9). */
async function removeAbandoned(dir: string): Promise<void> {
  const prefix = `${path.basename(dir)}.partial-`;
  const names = await fs.readdir(path.dirname(dir)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    let alive = false;
    // pid 0 names folders set aside as damaged; signal 0 only asks whether the process exists.
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (error) {
        alive = (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) await fs.rm(path.join(path.dirname(dir), name), { recursive: true, force: true });
  }
}

/**
 * Move an incomplete folder out of the way (only a damaged one can be: folders appear by rename,
 * complete). Checked again just before: another process may have renamed its complete one in.
 */
async function setAsideDamaged(dir: string): Promise<void> {
  const exists = await fs.stat(dir).then(() => true, () => false);
  if (!exists || (await isComplete(dir))) return;
  const aside = `${dir}.partial-0-damaged-${randomBytes(4).toString('hex')}`;
  await fs.rename(dir, aside).catch(() => undefined);
  await fs.rm(aside, { recursive: true, force: true });
}

async function unpackInto(staging: string, dir: string, binDir: string, version: string): Promise<void> {
  await fs.mkdir(staging, { mode: 0o700 });
  const browser = path.join(staging, 'chromium');
  await pipeline(createReadStream(path.join(binDir, 'chromium.br')), createBrotliDecompress(), createWriteStream(browser, { mode: 0o755 }));
  await unpackTar(path.join(binDir, 'swiftshader.tar.br'), staging);
  // The package's fonts.conf points at /tmp/fonts (its own layout); ours points at this folder.
  await unpackTar(path.join(binDir, 'fonts.tar.br'), staging, new Set(['fonts.conf']));
  await unpackTar(path.join(binDir, 'al2023.tar.br'), staging);
  await fs.writeFile(path.join(staging, 'fonts.conf'), fontConfig(dir));
  await fs.writeFile(path.join(staging, MARKER), `${JSON.stringify({ package: CHROMIUM_BUNDLE_PACKAGE, version, unpackedAt: new Date().toISOString() }, null, 2)}\n`);
}

/** Options of {@link unpackChromiumBundle}. */
export interface UnpackOptions {
  /** Where the bundle folder goes (default: the OS temp dir). */
  tmpRoot?: string;
  /** Called once, before a first unpack starts (it takes a few seconds and ~230 MB of disk). */
  onUnpack?: (dir: string) => void;
}

const unpacking = new Map<string, Promise<ChromiumBundle>>();

/**
 * The bundled Chromium, unpacked on first use (about 2 s) and reused afterwards. Safe against
 * concurrent callers (in this process and in others), against an unpack that was interrupted and
 * against a folder damaged later (it is checked on every call and unpacked again).
 *
 * @throws AekitError BACKEND_UNAVAILABLE when @sparticuz/chromium is not installed; BAD_DATA when
 *   one of its archives is damaged.
 */
export function unpackChromiumBundle(options: UnpackOptions = {}): Promise<ChromiumBundle> {
  const { binDir, version } = locatePackage();
  const dir = chromiumBundleDir(version, options.tmpRoot);
  let pending = unpacking.get(dir);
  if (!pending) {
    pending = unpack(dir, binDir, version, options.onUnpack);
    unpacking.set(dir, pending);
    // Shared only while in flight: a later call checks the folder again (it may have been deleted).
    const forget = () => unpacking.delete(dir);
    pending.then(forget, forget);
  }
  return pending;
}

async function unpack(dir: string, binDir: string, version: string, onUnpack?: (dir: string) => void): Promise<ChromiumBundle> {
  if (await isComplete(dir)) return describe(dir, version);
  await removeAbandoned(dir);
  await setAsideDamaged(dir);
  onUnpack?.(dir);
  const staging = `${dir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await unpackInto(staging, dir, binDir, version);
    await fs.rename(staging, dir);
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    // Another process finished first (rename onto its non-empty folder fails): use its folder.
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await isComplete(dir))) return describe(dir, version);
    if (error instanceof AekitError) throw error;
    throw new AekitError('BACKEND_UNAVAILABLE', `cannot unpack the bundled Chromium from ${binDir}: ${(error as Error).message}`, { where: dir, cause: error });
  }
  return describe(dir, version);
}
