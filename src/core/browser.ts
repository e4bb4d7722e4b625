/**
 * The one place aekit finds and starts a browser: the browser tests, `aekit bench`'s browser rows
 * and any other browser use go through {@link launchChromium}. Which Chromium, in order:
 *
 * 1. `AEKIT_CHROMIUM`, when set (an error if it does not run: a user who names a browser means it);
 * 2. a system Chromium on the PATH (Debian's `chromium`, `chromium-browser`, Google Chrome);
 * 3. the Chromium bundled in the @sparticuz/chromium devDependency (chromium-bundle.ts), so that
 *    `npm test` needs no apt step.
 *
 * The same bundle carries SwiftShader, a Vulkan driver on the CPU: {@link softwareVulkan} gives
 * the environment that lets onnxruntime-node's WebGPU provider use it in a child process.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM_BUNDLE_INSTALL, CHROMIUM_BUNDLE_PACKAGE, unpackChromiumBundle } from './chromium-bundle';
import type { ChromiumBundle } from './chromium-bundle';
import { AekitError } from './errors';
import type { Logger } from './log';

/** Environment variable naming the Chromium to use ahead of any other. */
export const CHROMIUM_ENV = 'AEKIT_CHROMIUM';

/** Executable names of a system Chromium, searched on the PATH in this order. */
export const SYSTEM_CHROMIUM_NAMES = Object.freeze(['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']);

/** Where the Chromium came from (see the module comment for the order). */
export type ChromiumSource = 'AEKIT_CHROMIUM' | 'system' | 'bundled';

/** A Chromium that answered `--version`, with what it needs in its environment. */
export interface FoundChromium {
  source: ChromiumSource;
  executablePath: string;
  /** What `--version` printed, e.g. 'Chromium 153.0.8010.0'. */
  version: string;
  /** Variables to add to the browser's environment (fonts and, when missing, NSS for the bundled one). */
  env: Readonly<Record<string, string>>;
  /** One line for logs: which browser, from where. */
  description: string;
}

/**
 * Chromium flags. Headless, sandbox-free (root in containers; playwright adds --no-sandbox too
 * unless asked for a sandbox), and quiet on the network: no background requests, component
 * updates, sync or QUIC probes to Google. `--disable-gpu` when no GPU process is wanted (nothing
 * to gain from one for wasm), `--enable-unsafe-webgpu` for WebGPU (Linux ships it behind this
 * switch; without a GPU, Dawn then runs on SwiftShader).
 */
export const CHROMIUM_FLAGS = Object.freeze({
  common: Object.freeze(['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']),
  webgpu: Object.freeze(['--enable-unsafe-webgpu']),
  noGpu: Object.freeze(['--disable-gpu']),
});

/** How long `--version` may take (a cold start of a 200 MB binary on a busy machine). */
const VERSION_TIMEOUT_MS = 30_000;

/** The glibc loader's message for a missing library: the bundled NSS can stand in. */
const MISSING_LIBRARY = /error while loading shared libraries/;

function runVersion(file: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, ['--version'], { env, timeout: VERSION_TIMEOUT_MS }, (error, stdout, stderr) => {
      const firstLine = (text: string) => text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
      if (error) reject(new Error(firstLine(stderr) || error.message));
      else resolve(firstLine(stdout));
    });
  });
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first {@link SYSTEM_CHROMIUM_NAMES} executable on `PATH`. */
function onPath(env: NodeJS.ProcessEnv): string | undefined {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const name of SYSTEM_CHROMIUM_NAMES) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return undefined;
}

async function bundled(env: NodeJS.ProcessEnv, logger?: Logger): Promise<FoundChromium> {
  const bundle = await unpackChromiumBundle({ onUnpack: (dir) => logger?.info(`unpacking the Chromium of ${CHROMIUM_BUNDLE_PACKAGE} into ${dir} (once per version)`) });
  const extra: Record<string, string> = { FONTCONFIG_FILE: bundle.fontConfigFile };
  let version: string;
  try {
    version = await runVersion(bundle.executablePath, { ...env, ...extra });
  } catch (error) {
    if (!MISSING_LIBRARY.test((error as Error).message)) throw unusable('bundled', bundle.executablePath, error);
    // This machine lacks NSS (libnss3): the package ships a build of it for this case.
    extra.LD_LIBRARY_PATH = [bundle.libDir, env.LD_LIBRARY_PATH].filter(Boolean).join(path.delimiter);
    version = await runVersion(bundle.executablePath, { ...env, ...extra }).catch((retry: unknown) => {
      throw unusable('bundled', bundle.executablePath, retry);
    });
  }
  const nss = extra.LD_LIBRARY_PATH ? ', with its own NSS' : '';
  return { source: 'bundled', executablePath: bundle.executablePath, version, env: extra, description: `${version}, bundled with ${CHROMIUM_BUNDLE_PACKAGE} ${bundle.packageVersion}${nss} (${bundle.executablePath})` };
}

function unusable(source: ChromiumSource, file: string, error: unknown): AekitError {
  const named = source === 'AEKIT_CHROMIUM' ? `${CHROMIUM_ENV}=${file}` : file;
  return new AekitError('BACKEND_UNAVAILABLE', `the ${source === 'bundled' ? 'bundled ' : ''}Chromium does not run (\`${file} --version\` failed: ${(error as Error).message})`, { where: named });
}

/** Options of {@link findChromium}. */
export interface FindChromiumOptions {
  /** The environment to read AEKIT_CHROMIUM and PATH from (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Told when the bundled Chromium is unpacked (a first use takes a few seconds). */
  logger?: Logger;
}

const found = new Map<string, Promise<FoundChromium>>();

/**
 * The Chromium to use: `AEKIT_CHROMIUM`, else a system one, else the bundled one. The answer is
 * kept for the life of the process (per AEKIT_CHROMIUM and PATH).
 *
 * @throws AekitError BACKEND_UNAVAILABLE when AEKIT_CHROMIUM does not run, or when there is no
 *   system Chromium and no bundled one; the message lists what was tried and how to get one.
 */
export function findChromium(options: FindChromiumOptions = {}): Promise<FoundChromium> {
  const env = options.env ?? process.env;
  const key = JSON.stringify([env[CHROMIUM_ENV] ?? '', env.PATH ?? '']);
  let pending = found.get(key);
  if (!pending) {
    pending = locate(env, options.logger);
    found.set(key, pending);
    pending.catch(() => found.delete(key));
  }
  return pending;
}

async function locate(env: NodeJS.ProcessEnv, logger?: Logger): Promise<FoundChromium> {
  const named = env[CHROMIUM_ENV]?.trim();
  if (named) {
    if (!isExecutable(named)) throw new AekitError('BACKEND_UNAVAILABLE', 'expected an executable Chromium, found no executable file there', { where: `${CHROMIUM_ENV}=${named}` });
    const version = await runVersion(named, env).catch((error: unknown) => {
      throw unusable('AEKIT_CHROMIUM', named, error);
    });
    return { source: 'AEKIT_CHROMIUM', executablePath: named, version, env: {}, description: `${version} (${CHROMIUM_ENV}=${named})` };
  }
  const tried: string[] = [];
  const system = onPath(env);
  if (system) {
    try {
      const version = await runVersion(system, env);
      return { source: 'system', executablePath: system, version, env: {}, description: `${version} (system: ${system})` };
    } catch (error) {
      // A broken system browser (a snap stub, a missing library) should not hide the bundled one.
      tried.push(`${system}: ${(error as Error).message}`);
      logger?.warn(`the system Chromium at ${system} does not run (${(error as Error).message}); trying the bundled one`);
    }
  } else tried.push(`no ${SYSTEM_CHROMIUM_NAMES.join('/')} on the PATH`);
  try {
    return await bundled(env, logger);
  } catch (error) {
    tried.push(error instanceof Error ? error.message : String(error));
    throw new AekitError(
      'BACKEND_UNAVAILABLE',
      `no Chromium to run (${tried.join('; ')}); install one with \`${CHROMIUM_BUNDLE_INSTALL}\` or \`apt-get install chromium\`, or set ${CHROMIUM_ENV}=<path to chrome/chromium>`,
    );
  }
}

/** Options of {@link launchChromium}. */
export interface LaunchChromiumOptions {
  /** 'webgpu': a GPU process with WebGPU enabled; 'off': no GPU process (wasm pages). */
  gpu: 'webgpu' | 'off';
  /** Flags after aekit's own (e.g. '--enable-precise-memory-info'). */
  args?: readonly string[];
  /** Told which Chromium runs (info) and about an unpack or a broken system browser. */
  logger?: Logger;
  /** Use this Chromium instead of finding one (e.g. a bench option); AEKIT_CHROMIUM rules still apply to it. */
  executablePath?: string;
}

/** A running headless Chromium and which one it is. */
export interface LaunchedChromium {
  browser: Browser;
  chromium: FoundChromium;
}

/** Variables without undefined values, as playwright wants them. */
function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * Start a headless Chromium through playwright-core (a devDependency, loaded here on demand).
 *
 * @throws AekitError BACKEND_UNAVAILABLE when playwright-core or a Chromium is missing.
 */
export async function launchChromium(options: LaunchChromiumOptions): Promise<LaunchedChromium> {
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch {
    throw new AekitError('BACKEND_UNAVAILABLE', 'playwright-core is not installed, so no browser can be driven (npm install --save-dev playwright-core)');
  }
  const chromium = await findChromium({ logger: options.logger, env: options.executablePath ? { ...process.env, [CHROMIUM_ENV]: options.executablePath } : process.env });
  options.logger?.info(`browser: ${chromium.description}`);
  const args = [...CHROMIUM_FLAGS.common, ...(options.gpu === 'webgpu' ? CHROMIUM_FLAGS.webgpu : CHROMIUM_FLAGS.noGpu), ...(options.args ?? [])];
  const browser = await playwright.chromium.launch({ executablePath: chromium.executablePath, headless: true, args, env: definedEnv({ ...process.env, ...chromium.env }) });
  return { browser, chromium };
}

/** SwiftShader as the Vulkan driver of a child process (see {@link softwareVulkan}). */
export interface SoftwareVulkan {
  /** The driver manifest (VK_ICD_FILENAMES). */
  icd: string;
  /** Variables for the child: the bundled Vulkan loader on LD_LIBRARY_PATH, SwiftShader as the only driver. */
  env: Readonly<Record<'LD_LIBRARY_PATH' | 'VK_ICD_FILENAMES', string>>;
}

/**
 * The environment that gives a child process a Vulkan loader and SwiftShader as its driver, from
 * the bundled Chromium: onnxruntime-node's WebGPU provider (Dawn over Vulkan) then has an adapter
 * on a machine without a GPU or libvulkan1. It has to be a child: the dynamic loader reads
 * LD_LIBRARY_PATH once, when a process starts. The folder holds only the bundle's own libraries.
 *
 * @throws AekitError BACKEND_UNAVAILABLE when @sparticuz/chromium is not installed.
 */
export async function softwareVulkan(env: NodeJS.ProcessEnv = process.env): Promise<SoftwareVulkan> {
  const bundle: ChromiumBundle = await unpackChromiumBundle();
  const libraryPath = [path.dirname(bundle.vulkanIcd), env.LD_LIBRARY_PATH].filter(Boolean).join(path.delimiter);
  return { icd: bundle.vulkanIcd, env: { LD_LIBRARY_PATH: libraryPath, VK_ICD_FILENAMES: bundle.vulkanIcd } };
}

/** What to tell a user whose WebGPU provider found no adapter: how to run on SwiftShader. */
export const SOFTWARE_VULKAN_HINT = `without a GPU, run on SwiftShader (Vulkan on the CPU) from the bundled Chromium: \`env $(aekit browser --vulkan-env) <your aekit command>\` (needs ${CHROMIUM_BUNDLE_INSTALL})`;

/** What {@link checkWebGpu} found. */
export interface WebGpuCheck {
  chromium: FoundChromium;
  /** The adapter's vendor / architecture / description, when the page got one. */
  adapter?: string;
  /** Why there is no adapter. */
  reason?: string;
}

/**
 * Launch Chromium with WebGPU and ask a page for an adapter. The page is served from 127.0.0.1:
 * WebGPU exists only in secure contexts, which a loopback origin is and about:blank or data: are not.
 */
export async function checkWebGpu(logger?: Logger): Promise<WebGpuCheck> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>aekit WebGPU check</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let launched: LaunchedChromium | undefined;
  try {
    launched = await launchChromium({ gpu: 'webgpu', logger });
    const page = await launched.browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    // A string: the page runs it as is (a compiled function could reference helpers it lacks).
    const answer = (await page.evaluate(`(async () => {
      if (!navigator.gpu) return { reason: 'navigator.gpu is missing (WebGPU is not enabled in this browser)' };
      const adapter = await navigator.gpu.requestAdapter();
      if (!adapter) return { reason: 'navigator.gpu.requestAdapter() returned null (no Vulkan driver for Dawn)' };
      const info = adapter.info || {};
      return { adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unnamed adapter' };
    })()`)) as { adapter?: string; reason?: string };
    return { chromium: launched.chromium, ...answer };
  } finally {
    await launched?.browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
