/**
 * Builds `aekit/web` (run by `npm run build`): src/serve/web/aekit-web.ts bundled by esbuild into
 *
 * - dist/web/aekit-web.js: ES module, for browsers (what `aekit serve` and `aekit export --web`
 *   ship), bundlers and Node's `import`. dist/web/package.json (`"type": "module"`) tells Node it
 *   is ESM inside this CommonJS package, so the file keeps the name that pages import;
 * - dist/web/aekit-web.cjs: the same code as CommonJS, for `require('aekit/web')`.
 *
 * `onnxruntime-web` stays external in both: a page maps it with an import map, a bundler and Node
 * resolve it from node_modules (Node gets its `node` build by its own `exports` conditions).
 *
 * Usage: `npx tsx scripts/build-web.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import type { BuildOptions } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'dist', 'web');

/** What both builds share (the browser tests bundle the module with the same settings). */
const COMMON: BuildOptions = {
  entryPoints: [path.join(ROOT, 'src', 'serve', 'web', 'aekit-web.ts')],
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  external: ['onnxruntime-web'],
  sourcemap: true,
  logLevel: 'warning',
};

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  await build({ ...COMMON, format: 'esm', outfile: path.join(OUT_DIR, 'aekit-web.js') });
  await build({ ...COMMON, format: 'cjs', outfile: path.join(OUT_DIR, 'aekit-web.cjs') });
  writeFileSync(path.join(OUT_DIR, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
