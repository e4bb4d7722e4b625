/**
 * `aekit export <run> --web <dir>`'s library half: the demo page as a self-contained static
 * folder that any static file server or host (GitHub Pages, a bucket, a USB stick behind
 * `npx http-server`) serves as it is, offline, with no special headers:
 *
 *   index.html              the demo page (the one `aekit serve` shows at `/`)
 *   aekit-web.js(.map)      aekit's web module
 *   ort/                    onnxruntime-web's module and its WebGPU+wasm runtime, from the installed package
 *   models/<name>/*.onnx    each run's decoder (or generator) and encoder
 *   manifest.json           the models, as `aekit serve`'s /v1/models lists them, with relative URLs
 *   _headers, .nojekyll     COOP/COEP for hosts that read `_headers` (Netlify, Cloudflare Pages); no Jekyll on GitHub Pages
 *   coi-serviceworker.js    optional: cross-origin isolation through a service worker
 *
 * The folder is written next to its destination and moved into place at the end, so a failed
 * export never leaves half a site.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { AEKIT_VERSION } from '../core/version';
import { exportRun } from '../export/run-export';
import type { ExportRunOptions, ExportRunResult } from '../export/run-export';
import { DECODING_PARTS } from '../artifact/info';
import { getFamily } from '../models';
import { findCheckpoint } from '../run/checkpoint';
import { readJsonFile } from '../core/json-file';
import { demoPageHtml } from './demo-page';
import { ISOLATION_WORKER_FILE, ISOLATION_WORKER_JS } from './isolation-worker';
import { loadModels } from './models';
import type { ServedModel } from './models';
import { listModel, servedRoles } from './operations';
import { ISOLATION_HEADERS, ORT_RUNTIME_FILES, ortWebDist, WEB_MODULE_FILE } from './static-files';

/** Names in a static export. */
export const WEB_DEMO_FILES = Object.freeze({
  page: 'index.html',
  manifest: 'manifest.json',
  webModule: 'aekit-web.js',
  ortFolder: 'ort/',
  modelsFolder: 'models/',
  headers: '_headers',
  noJekyll: '.nojekyll',
});
/** `format` of a static export's manifest. */
export const WEB_DEMO_FORMAT = 'aekit-web-demo';

/** Options of {@link writeWebDemo}. */
export interface WebDemoOptions {
  /** Replace an existing, non-empty folder. */
  force?: boolean;
  /** Page title (default: "aekit demo: <model>"). */
  title?: string;
  /** Add the service-worker shim that makes the page cross-origin isolated on hosts without COOP/COEP headers. */
  serviceWorker?: boolean;
  logger?: Logger;
}

/** One written file, relative to the folder. */
export interface WebDemoFile {
  path: string;
  bytes: number;
}

/** What {@link writeWebDemo} wrote. */
export interface WebDemoResult {
  dir: string;
  models: string[];
  files: WebDemoFile[];
  /** Bytes in all, and by part: onnxruntime-web, the models, the page and its module. */
  bytes: { total: number; runtime: number; models: number; page: number };
}

const exists = (p: string) => fs.stat(p).then(() => true, () => false);

/** Refuse a non-empty destination unless `force`. */
async function checkDestination(out: string, force: boolean | undefined): Promise<void> {
  const stat = await fs.stat(out).catch(() => undefined);
  if (!stat) return;
  if (!stat.isDirectory()) throw new AekitError('ALREADY_EXISTS', 'expected a folder for the static site (or nothing), found a file', { where: out });
  if (!force && (await fs.readdir(out)).length > 0) throw new AekitError('ALREADY_EXISTS', 'the folder is not empty; use --force to replace it', { where: out });
}

/** The manifest's entry of a model: its `/v1/models` listing, with artifact URLs relative to the manifest. */
function manifestEntry(model: ServedModel): ReturnType<typeof listModel> {
  const listing = listModel(model);
  for (const role of servedRoles(model)) listing.artifacts[role]!.url = `${WEB_DEMO_FILES.modelsFolder}${encodeURIComponent(model.name)}/${role}.onnx`;
  return listing;
}

/**
 * Write the static demo for the artifacts at `artifacts` (`.onnx` files or folders of them, as
 * `aekit serve` takes) into the folder `out`.
 * @throws AekitError ALREADY_EXISTS for a non-empty `out` without `force`, FILE_NOT_FOUND when the
 *   web module is not built or no artifact has a decoder, and the artifact errors of `aekit serve`.
 */
export async function writeWebDemo(artifacts: readonly string[], out: string, options: WebDemoOptions = {}): Promise<WebDemoResult> {
  const logger = options.logger ?? silentLogger;
  await checkDestination(out, options.force);
  if (!(await exists(WEB_MODULE_FILE))) throw new AekitError('FILE_NOT_FOUND', 'aekit\'s web module is not built: run `npm run build`', { where: WEB_MODULE_FILE });
  const models = (await loadModels(artifacts, logger)).filter((m) => m.decoder);
  if (models.length === 0) throw new AekitError('FILE_NOT_FOUND', `no decoder or generator among the artifacts in ${artifacts.join(', ')}: the page decodes codes into images`);

  const parent = path.dirname(path.resolve(out));
  await fs.mkdir(parent, { recursive: true });
  const temp = path.join(parent, `.${path.basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  const files: WebDemoFile[] = [];
  const bytes = { total: 0, runtime: 0, models: 0, page: 0 };
  const put = async (rel: string, data: Uint8Array | string, part: 'runtime' | 'models' | 'page') => {
    const file = path.join(temp, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, data);
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    files.push({ path: rel, bytes: size });
    bytes[part] += size;
    bytes.total += size;
  };
  try {
    for (const name of ORT_RUNTIME_FILES) await put(`${WEB_DEMO_FILES.ortFolder}${name}`, await fs.readFile(path.join(ortWebDist(), name)), 'runtime');
    for (const model of models) {
      for (const role of servedRoles(model)) await put(`${WEB_DEMO_FILES.modelsFolder}${model.name}/${role}.onnx`, model[role]!.bytes, 'models');
    }
    await put(WEB_DEMO_FILES.webModule, await fs.readFile(WEB_MODULE_FILE), 'page');
    if (await exists(`${WEB_MODULE_FILE}.map`)) await put(`${WEB_DEMO_FILES.webModule}.map`, await fs.readFile(`${WEB_MODULE_FILE}.map`), 'page');
    const manifest = { format: WEB_DEMO_FORMAT, version: 1, aekitVersion: AEKIT_VERSION, models: models.map(manifestEntry) };
    await put(WEB_DEMO_FILES.manifest, `${JSON.stringify(manifest, null, 2)}\n`, 'page');
    const title = options.title ?? (models.length === 1 ? `aekit demo: ${models[0].name}` : 'aekit demo');
    const page = demoPageHtml({ models: WEB_DEMO_FILES.manifest, ortFolder: WEB_DEMO_FILES.ortFolder, webModule: WEB_DEMO_FILES.webModule, title, isolationScript: options.serviceWorker ? ISOLATION_WORKER_FILE : undefined });
    await put(WEB_DEMO_FILES.page, page, 'page');
    if (options.serviceWorker) await put(ISOLATION_WORKER_FILE, ISOLATION_WORKER_JS, 'page');
    const headerLines = Object.entries(ISOLATION_HEADERS).map(([k, v]) => `  ${k}: ${v}`);
    await put(WEB_DEMO_FILES.headers, `/*\n${headerLines.join('\n')}\n`, 'page');
    await put(WEB_DEMO_FILES.noJekyll, '', 'page');
    if (await exists(out)) await fs.rm(out, { recursive: true, force: true });
    await fs.rename(temp, out);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  }
  return { dir: out, models: models.map((m) => m.name), files, bytes };
}

/** Options of {@link exportWebDemo}: the export's (`aekit export`) and the site's. */
export interface ExportWebDemoOptions extends WebDemoOptions, Pick<ExportRunOptions, 'opset' | 'fp16' | 'verify' | 'runtimes'> {
  /** Also keep the exported artifacts in this folder (`aekit export --out`); default: only in the site. */
  artifactsOut?: string;
}

/** True when `location` holds ONNX artifacts rather than a run or checkpoint. */
async function isArtifactLocation(location: string): Promise<boolean> {
  if (location.endsWith('.onnx')) return true;
  const stat = await fs.stat(location).catch(() => undefined);
  if (!stat?.isDirectory()) return false;
  for (const marker of ['checkpoint.json', 'checkpoints', 'config.json']) if (await exists(path.join(location, marker))) return false;
  return true;
}

/**
 * The static demo of a trained run (or checkpoint): export its decoder (or generator) and encoder
 * to ONNX, verified as `aekit export` does, and write the site to `out`. Given a folder of ONNX
 * artifacts instead (an earlier `aekit export --out`), it uses those as they are.
 */
export async function exportWebDemo(location: string, out: string, options: ExportWebDemoOptions = {}): Promise<WebDemoResult & { exported?: ExportRunResult }> {
  await checkDestination(out, options.force);
  if (await isArtifactLocation(location)) return writeWebDemo([location], out, options);
  // The checkpoint's manifest names the family; exportRun loads the weights.
  const manifestPath = path.join(await findCheckpoint(location), 'checkpoint.json');
  const manifest = (await readJsonFile(manifestPath, { invalidCode: 'BAD_CHECKPOINT' })) as { family?: unknown };
  const family = getFamily(String(manifest.family));
  const parts = family.exportParts.filter((p) => p === 'encoder' || DECODING_PARTS.includes(p));
  if (parts.length === 0) throw new AekitError('BAD_ARGUMENT', `family '${family.name}' exports ${family.exportParts.join(', ')}: nothing the page runs (a decoder, generator or encoder)`, { where: location });
  const temp = options.artifactsOut ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-web-export-')));
  try {
    const exported = await exportRun(location, { out: temp, parts, opset: options.opset, fp16: options.fp16, verify: options.verify, runtimes: options.runtimes, force: options.force, logger: options.artifactsOut ? options.logger : undefined });
    const site = await writeWebDemo([temp], out, options);
    // Artifacts exported only for the site are where the site keeps them, not in the temporary folder.
    if (!options.artifactsOut) for (const a of exported.artifacts) a.path = path.join(out, WEB_DEMO_FILES.modelsFolder, site.models[0], path.basename(a.path));
    return { ...site, exported };
  } finally {
    if (!options.artifactsOut) await fs.rm(temp, { recursive: true, force: true });
  }
}
