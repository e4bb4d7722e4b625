/**
 * The demo page served by `aekit serve`, in headless Chromium (the one src/core/browser.ts finds:
 * without a system browser, the one bundled in @sparticuz/chromium; driven by playwright-core): it decodes a fixed z in the browser, and the canvas pixels match
 * onnxruntime-node's output for that z after the same value mapping, once on the wasm EP and once
 * on the WebGPU EP (SwiftShader's adapter on a machine without a GPU).
 */
import { strict as assert } from 'node:assert';
import type { Browser, Page } from 'playwright-core';
import type { ServeProcess, TestArtifacts } from './helpers';
import { launchTestChromium, maxAbsDiff, oneHot, ortReference, startServeCli, stopServeCli, testArtifacts } from './helpers';

/** The serving issue's tolerance between the browser's and onnxruntime-node's numbers. */
const BROWSER_TOLERANCE = 1e-3;

interface DemoState {
  state: string;
  status: string;
  ep: string;
  threads: number;
  adapter: string;
  isolated: boolean;
  hardwareConcurrency: number;
  notes: string[];
  output: number[];
  shape: number[];
  canvas: { width: number; height: number; rgba: number[] };
}

async function openDemo(page: Page, url: string, consoleLines: string[]): Promise<DemoState> {
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', undefined, { timeout: 90_000 });
  return page.evaluate(() => {
    const demo = (window as unknown as { aekitDemo: { state: string; notes: string[]; adapter?: string; decoder?: { executionProvider: string; threads: number }; lastImages?: { data: number[]; shape: number[] } } }).aekitDemo;
    const canvas = document.getElementById('canvas') as HTMLCanvasElement;
    const rgba = Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
    return {
      state: demo.state,
      status: document.getElementById('status')!.textContent ?? '',
      ep: demo.decoder?.executionProvider ?? '',
      threads: demo.decoder?.threads ?? 0,
      adapter: demo.adapter ?? '',
      isolated: crossOriginIsolated,
      hardwareConcurrency: navigator.hardwareConcurrency,
      notes: demo.notes,
      output: demo.lastImages?.data ?? [],
      shape: demo.lastImages?.shape ?? [],
      canvas: { width: canvas.width, height: canvas.height, rgba },
    };
  });
}

/** Every canvas pixel is the 8-bit rounding of the expected value, up to the tolerance on the value. */
function assertCanvasMatches(canvas: DemoState['canvas'], expected: Float32Array): void {
  assert.equal(canvas.width, 28);
  assert.equal(canvas.height, 28);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const unit = Math.min(1, Math.max(0, expected[i]));
    // The canvas stores round(v * 255); allow half a step for that rounding plus the tolerance on v.
    worst = Math.max(worst, Math.abs(canvas.rgba[i * 4] - unit * 255) - 0.5);
    assert.equal(canvas.rgba[i * 4 + 3], 255, 'opaque');
    assert.equal(canvas.rgba[i * 4 + 1], canvas.rgba[i * 4], 'grey');
  }
  assert.ok(worst <= BROWSER_TOLERANCE * 255, `worst pixel off by ${worst} steps beyond rounding`);
}

describe('serve: demo page in headless Chromium @slow', function () {
  this.timeout(180_000);
  let artifacts: TestArtifacts;
  let proc: ServeProcess | undefined;
  let browser: Browser | undefined;
  const z = [0.8, -1.2, 0.35, 1.7];

  before(async () => {
    artifacts = await testArtifacts();
    proc = await startServeCli([artifacts.root]);
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });
  after(() => stopServeCli(proc));

  for (const ep of ['wasm', 'webgpu'] as const) {
    it(`picks ${ep} by itself and renders a fixed z with it, matching onnxruntime-node within 1e-3 @slow`, async () => {
      // WebGPU needs the GPU process and the unsafe-webgpu switch on Linux; the adapter is SwiftShader.
      browser = await launchTestChromium(ep === 'webgpu' ? 'webgpu' : 'off');
      const page = await browser.newPage();
      const consoleLines: string[] = [];
      // ep=auto: the page itself picks WebGPU when the browser has an adapter, wasm otherwise.
      const demo = await openDemo(page, `${proc!.url}/?model=vae&ep=auto&z=${z.join(',')}`, consoleLines);
      assert.equal(demo.state, 'ready', `${demo.status}\n${consoleLines.join('\n')}`);
      assert.equal(demo.ep, ep);
      assert.match(demo.status, new RegExp(`^rendered with ${ep}`));
      assert.equal(demo.isolated, true, 'COOP/COEP make the page cross-origin isolated');
      if (ep === 'webgpu') assert.ok(demo.adapter.length > 0, 'the page names the WebGPU adapter');
      else assert.equal(demo.threads, Math.min(4, demo.hardwareConcurrency), 'multithreaded wasm');
      const expected = (await ortReference(artifacts.vae.decoder, { z: { data: Float32Array.from(z), dims: [1, 4] } })).image;
      assert.deepEqual(demo.shape, [1, 1, 28, 28]);
      const diff = maxAbsDiff(demo.output, expected);
      assert.ok(diff <= BROWSER_TOLERANCE, `max |browser ${ep} - onnxruntime-node| = ${diff}`);
      assertCanvasMatches(demo.canvas, expected);

      if (ep === 'wasm') {
        // A conditional model: the class picker's label reaches the decoder.
        const cvaePage = await browser.newPage();
        const cz = [0.5, -0.5, 1];
        const cvae = await openDemo(cvaePage, `${proc!.url}/?model=cvae&ep=wasm&z=${cz.join(',')}&label=7`, consoleLines);
        assert.equal(cvae.state, 'ready', `${cvae.status}\n${consoleLines.join('\n')}`);
        assert.equal(await cvaePage.locator('#label').inputValue(), '7');
        const cvaeExpected = (await ortReference(artifacts.cvae.decoder, { z: { data: Float32Array.from(cz), dims: [1, 3] }, label: { data: oneHot([7], 10), dims: [1, 10] } })).image;
        assert.ok(maxAbsDiff(cvae.output, cvaeExpected) <= BROWSER_TOLERANCE);
        assertCanvasMatches(cvae.canvas, cvaeExpected);
      }
    });
  }

  it('logs the fall back to one wasm thread on a page that is not cross-origin isolated @slow', async () => {
    browser = await launchTestChromium('off');
    const page = await browser.newPage();
    // /healthz is same-origin but sent without COOP/COEP.
    await page.goto(`${proc!.url}/healthz`);
    await page.addScriptTag({ type: 'importmap', content: JSON.stringify({ imports: { 'onnxruntime-web': '/ort/ort.min.mjs' } }) });
    // A string, not a function: tsx would compile a function with helpers that do not exist in the page.
    const result = (await page.evaluate(`(async () => {
      const web = await import('/web/aekit-web.js');
      const notes = [];
      const decoder = await web.loadDecoder('/v1/models/vae/artifacts/decoder.onnx', { executionProviders: ['wasm'], numThreads: 2, log: (level, m) => notes.push(level + ': ' + m) });
      const sampled = await decoder.sample(2, 11);
      return { isolated: crossOriginIsolated, threads: decoder.threads, notes, shape: sampled.shape, z: Array.from(sampled.z), data: Array.from(sampled.data) };
    })()`)) as { isolated: boolean; threads: number; notes: string[]; shape: number[]; z: number[]; data: number[] };
    assert.equal(result.isolated, false);
    assert.equal(result.threads, 1);
    assert.ok(result.notes.some((n) => /^warn: falling back to 1 wasm thread \(asked for 2\): the page is not cross-origin isolated/.test(n)), result.notes.join('\n'));
    // sample(n, seed) in the page draws the same z as the server's /sample.
    const server = (await (await fetch(`${proc!.url}/v1/models/vae/sample`, { method: 'POST', body: JSON.stringify({ n: 2, seed: 11 }), headers: { 'content-type': 'application/json' } })).json()) as { z: number[][]; images: number[][] };
    assert.deepEqual(result.z, server.z.flat());
    assert.ok(maxAbsDiff(result.data, server.images.flat()) <= BROWSER_TOLERANCE);
  });
});
