/**
 * The package as a consumer gets it: a fresh build, the packed tarball, and an empty project that
 * installs it offline. Shared by the tests in test/package/.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** The repository (the package's root). */
export const ROOT = path.resolve(__dirname, '..', '..');

/** Output of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a command run as a consumer would run it: without the `npm_*` variables an
 * enclosing `npm test` sets (npm reads `npm_config_*` as settings, so the repository's prefix
 * and scripts would leak into the consumer's npm), plus `extra`.
 */
export function consumerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) && key !== 'INIT_CWD') env[key] = value;
  return { ...env, ...extra };
}

/** Run `file args` in `cwd`; resolves with the exit code (never rejects on a non-zero exit). */
export function run(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: options.cwd, env: options.env ?? consumerEnv(), timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(new Error(`${file} ${args.join(' ')} did not finish (${error.message})\n${stdout}${stderr}`));
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** Newest modification time under `dir` (files whose name passes `keep`). */
function newest(dir: string, keep: (name: string) => boolean): number {
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const stat = statSync(full);
    latest = Math.max(latest, stat.isDirectory() ? newest(full, keep) : keep(name) ? stat.mtimeMs : 0);
  }
  return latest;
}

/** What `npm run build` writes last of each kind; a missing one means no build. */
const BUILD_OUTPUTS = ['dist/index.js', 'dist/web/aekit-web.cjs', 'dist/types/aekit.d.ts', 'build/api/aekit.api.md'];

/**
 * Build the package unless dist/ is newer than every source it comes from. `npm test` has just
 * built it; a lone `mocha test/package/...` after an edit builds here (about half a minute).
 */
export async function ensureBuilt(): Promise<void> {
  const outputs = BUILD_OUTPUTS.map((file) => path.join(ROOT, file));
  const built = outputs.every((file) => existsSync(file)) ? Math.min(...outputs.map((file) => statSync(file).mtimeMs)) : 0;
  const sources = Math.max(
    newest(path.join(ROOT, 'src'), (name) => name.endsWith('.ts')),
    ...['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-web.ts', 'scripts/build-types.ts'].map((file) => statSync(path.join(ROOT, file)).mtimeMs),
  );
  if (built > sources) return;
  process.stdout.write(`      (dist/ is ${built === 0 ? 'missing' : 'older than src/'}: running npm run build)\n`);
  const result = await run('npm', ['run', 'build'], { cwd: ROOT, timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
}

/** The parts of package.json these tests read. */
export interface PackageJson {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  exports: Record<string, unknown>;
  typesVersions: Record<string, Record<string, string[]>>;
  types: string;
  files: string[];
}

/** The repository's package.json. */
export function readPackageJson(): PackageJson {
  return JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
}

/** One entry of a v3 package-lock.json. */
interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  [field: string]: unknown;
}

/**
 * A consumer project's package-lock.json for `aekit` installed from `tarballSpec`, pinned to the
 * versions of aekit's own lockfile (its runtime dependencies, where npm places them when aekit is
 * a dependency: at the consumer's top level, as in this repository).
 *
 * Why a lockfile: `npm install --offline <tarball>` must resolve every dependency range from
 * cached registry metadata, which `npm ci` never fetches (its lockfile names exact versions). With
 * this lockfile the consumer's `npm ci --offline` needs only the package tarballs, which the
 * repository's `npm ci` left in npm's cache.
 */
export function consumerLockfile(consumerName: string, tarballSpec: string): object {
  const pkg = readPackageJson();
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, unknown> = {
    '': { name: consumerName, version: '1.0.0', dependencies: { [pkg.name]: tarballSpec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: tarballSpec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      optionalDependencies: pkg.optionalDependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!where.startsWith('node_modules/') || entry.dev) continue;
    // Needed by a dev and an optional dependency: for a consumer (no dev tree), optional only.
    const { devOptional, ...kept } = entry;
    packages[where] = devOptional ? { ...kept, optional: true } : kept;
  }
  return { name: consumerName, version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

/** Write a consumer project (package.json and the lockfile above) into `dir`. */
export function writeConsumerProject(dir: string, tarballSpec: string): void {
  const name = 'aekit-consumer';
  const manifest = { name, version: '1.0.0', private: true, dependencies: { [readPackageJson().name]: tarballSpec } };
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(path.join(dir, 'package-lock.json'), `${JSON.stringify(consumerLockfile(name, tarballSpec), null, 2)}\n`);
}
