/**
 * The driver's side of a browser runtime: headless Chromium (through playwright-core) on the bench
 * page, which runs the artifact with aekit's web module. One browser per runtime, so the wasm and
 * WebGPU rows never share a renderer.
 */
import { existsSync, promises as fs } from 'node:fs';
import { DECODING_PARTS } from '../artifact/info';
import type { TypedHostTensor } from '../artifact/runtime';
import { ORT_URL_PREFIX, WEB_MODULE_FILE } from '../serve/static-files';
import { BENCH_MODEL_URL, startBenchPageServer } from './browser-page';
import type { BenchPageServer } from './browser-page';
import { describeBenchArtifact } from './inputs';
import type { MemoryReading, OpenRequest, OpenResult, RunResult, RuntimeWorker } from './worker';

/** Where Debian's chromium package puts the browser; AEKIT_CHROMIUM overrides it. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/**
 * Chromium flags. Quiet, sandbox-free (root in containers), and no network chatter; `--disable-gpu`
 * for the wasm row (nothing to gain from a GPU process), `--enable-unsafe-webgpu` for the WebGPU row
 * (Linux ships WebGPU behind it; on a machine without a GPU, Dawn then uses SwiftShader).
 * `--enable-precise-memory-info` makes `performance.memory` exact instead of bucketed.
 */
export const CHROMIUM_FLAGS = Object.freeze({
  common: Object.freeze(['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info']),
  'chromium-wasm': Object.freeze(['--disable-gpu']),
  'chromium-webgpu': Object.freeze(['--enable-unsafe-webgpu']),
});

/** Options of {@link startBrowserWorker}. */
export interface BrowserWorkerOptions {
  chromiumPath?: string;
  /** aekit's built web module (default dist/web/aekit-web.js). */
  webModuleFile?: string;
}

/** The subset of playwright-core the worker uses (it is a devDependency: loaded lazily). */
interface Page {
  goto(url: string): Promise<unknown>;
  waitForFunction(expression: string, arg?: unknown, options?: { timeout?: number }): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  on(event: 'console', listener: (message: { type(): string; text(): string }) => void): void;
}
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
  version(): string;
}

/** Page-side API (see browser-page.ts). */
interface PageApi {
  open(request: { ep: string; threads: number; useWebModule: boolean; modelUrl: string; wasmPaths: string }): Promise<OpenResult>;
  setInputs(batch: number, feeds: Record<string, TypedHostTensor>, labelName: string | undefined, zName: string | undefined): void;
  run(batch: number, keepOutputs: boolean, outputName: string): Promise<RunResult>;
  close(): Promise<MemoryReading | null>;
}
type BenchWindow = { aekitBench: PageApi };

/** How long the page may take to load its modules. */
const PAGE_LOAD_TIMEOUT_MS = 60_000;

/**
 * Start a browser runtime. Missing pieces (playwright-core, Chromium, the built web module) are
 * reported when the worker is opened, as the row's skip reason.
 */
export async function startBrowserWorker(runtime: 'chromium-wasm' | 'chromium-webgpu', options: BrowserWorkerOptions = {}): Promise<RuntimeWorker> {
  const chromiumPath = options.chromiumPath ?? process.env.AEKIT_CHROMIUM ?? DEFAULT_CHROMIUM;
  const webModuleFile = options.webModuleFile ?? WEB_MODULE_FILE;
  let browser: Browser | undefined;
  let server: BenchPageServer | undefined;
  let page: Page | undefined;
  let pageError: string | undefined;
  let io: { zName?: string; labelName?: string; outputName: string } = { outputName: '' };

  const shutdown = async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    browser = undefined;
    server = undefined;
  };
  const api = () => {
    if (!page) throw new Error('the browser runtime is not open');
    return page;
  };

  const unavailable = (reason: string): OpenResult => ({ status: 'unavailable', reason });

  return {
    async open(request: OpenRequest): Promise<OpenResult> {
      let playwright: { chromium: { launch(options: Record<string, unknown>): Promise<Browser> } };
      try {
        playwright = (await import('playwright-core')) as unknown as typeof playwright;
      } catch {
        return unavailable('playwright-core is not installed (npm install playwright-core)');
      }
      if (!existsSync(chromiumPath)) return unavailable(`no Chromium at ${chromiumPath} (apt-get install -y chromium, or set AEKIT_CHROMIUM)`);
      if (!existsSync(webModuleFile)) return unavailable(`aekit's web module is not built (${webModuleFile}); run npm run build`);
      const artifact = describeBenchArtifact(request.onnxPath, new Uint8Array(await fs.readFile(request.onnxPath)));
      // Decoders and generators go through the web module's decoder; it needs their code and label inputs.
      const info = artifact.info;
      const useWebModule = info !== undefined && DECODING_PARTS.includes(info.part);
      const labelName = info?.label?.input;
      io = { labelName, zName: info?.latentInput?.name ?? artifact.inputs.find((i) => i.name !== labelName)?.name, outputName: artifact.outputs[0].name };

      server = await startBenchPageServer(request.onnxPath, webModuleFile);
      browser = await playwright.chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        args: [...CHROMIUM_FLAGS.common, ...CHROMIUM_FLAGS[runtime]],
      });
      page = await browser.newPage();
      page.on('pageerror', (error) => (pageError = error.message));
      await page.goto(`${server.origin}/`);
      try {
        await page.waitForFunction('document.body.dataset.state === "ready"', undefined, { timeout: PAGE_LOAD_TIMEOUT_MS });
      } catch {
        await shutdown();
        throw new Error(`the bench page did not load${pageError ? `: ${pageError}` : ''}`);
      }
      const opened = await page.evaluate((r) => (window as unknown as BenchWindow).aekitBench.open(r), {
        ep: runtime === 'chromium-webgpu' ? 'webgpu' : 'wasm',
        threads: request.threads,
        useWebModule,
        modelUrl: BENCH_MODEL_URL,
        wasmPaths: ORT_URL_PREFIX,
      });
      if (opened.status === 'unavailable') {
        await shutdown();
        return opened;
      }
      return { ...opened, detail: `Chromium ${browser.version()}: ${opened.detail}` };
    },
    async setInputs(batch, feeds) {
      await api().evaluate((a) => (window as unknown as BenchWindow).aekitBench.setInputs(a.batch, a.feeds, a.labelName, a.zName), { batch, feeds, labelName: io.labelName, zName: io.zName });
    },
    async run(batch, keepOutputs) {
      return api().evaluate((a) => (window as unknown as BenchWindow).aekitBench.run(a.batch, a.keepOutputs, a.outputName), { batch, keepOutputs, outputName: io.outputName });
    },
    async close() {
      try {
        return await api().evaluate(() => (window as unknown as BenchWindow).aekitBench.close(), undefined);
      } finally {
        await shutdown();
      }
    },
    kill: shutdown,
  };
}
