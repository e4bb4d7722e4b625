/**
 * The driver's side of a browser runtime: headless Chromium (through playwright-core) on the bench
 * page, which runs the artifact with aekit's web module. One browser per runtime, so the wasm and
 * WebGPU rows never share a renderer.
 */
import { existsSync, promises as fs } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../core/browser';
import type { FoundChromium } from '../core/browser';
import { isAekitError } from '../core/errors';
import { DECODING_PARTS } from '../artifact/info';
import type { TypedHostTensor } from '../artifact/runtime';
import { ORT_URL_PREFIX, WEB_MODULE_FILE } from '../serve/static-files';
import { BENCH_MODEL_URL, startBenchPageServer } from './browser-page';
import type { BenchPageServer } from './browser-page';
import { describeBenchArtifact } from './inputs';
import type { MemoryReading, OpenRequest, OpenResult, RunResult, RuntimeWorker } from './worker';

/**
 * Bench-only Chromium flags, after src/core/browser.ts's own: `--enable-precise-memory-info` makes
 * `performance.memory` exact instead of bucketed. The wasm row runs without a GPU process, the
 * WebGPU row with one (see CHROMIUM_FLAGS in core/browser.ts).
 */
export const BENCH_CHROMIUM_FLAGS = Object.freeze(['--enable-precise-memory-info']);

/** Options of {@link startBrowserWorker}. */
export interface BrowserWorkerOptions {
  /** Chromium to launch instead of the one src/core/browser.ts finds (AEKIT_CHROMIUM, system, bundled). */
  chromiumPath?: string;
  /** aekit's built web module (default dist/web/aekit-web.js). */
  webModuleFile?: string;
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
      if (!existsSync(webModuleFile)) return unavailable(`aekit's web module is not built (${webModuleFile}); run npm run build`);
      const artifact = describeBenchArtifact(request.onnxPath, new Uint8Array(await fs.readFile(request.onnxPath)));
      // Decoders and generators go through the web module's decoder; it needs their code and label inputs.
      const info = artifact.info;
      const useWebModule = info !== undefined && DECODING_PARTS.includes(info.part);
      const labelName = info?.label?.input;
      io = { labelName, zName: info?.latentInput?.name ?? artifact.inputs.find((i) => i.name !== labelName)?.name, outputName: artifact.outputs[0].name };

      let chromium: FoundChromium;
      try {
        ({ browser, chromium } = await launchChromium({ gpu: runtime === 'chromium-webgpu' ? 'webgpu' : 'off', args: BENCH_CHROMIUM_FLAGS, executablePath: options.chromiumPath }));
      } catch (error) {
        // No playwright-core, no Chromium: the row is skipped with the reason, as for a missing runtime.
        if (isAekitError(error) && error.code === 'BACKEND_UNAVAILABLE') return unavailable(error.message);
        throw error;
      }
      server = await startBenchPageServer(request.onnxPath, webModuleFile);
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
      return { ...opened, detail: `${chromium.version} (${chromium.source}): ${opened.detail}` };
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
