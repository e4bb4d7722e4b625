/**
 * The demo page in headless Chromium, as people use it: the static export (`writeWebDemo`, what
 * `aekit export --web` writes) served by a plain static server with no special headers, on wasm;
 * `aekit serve`'s page on WebGPU (SwiftShader's adapter on a machine without a GPU); and the export
 * with its isolation service worker; and `aekit serve`'s page over classifiers alone. Strokes are drawn with the mouse, and every image the page
 * shows is checked against onnxruntime-node's output for the same inputs, within 1e-3.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { readArtifactInfo } from '../../src/artifact/onnx-io';
import { drawLatents } from '../../src/artifact/prior';
import { MODELS_DIR } from '../../src/core/paths';
import { writeWebDemo } from '../../src/serve/static-site';
import { lerpCodes, SAMPLE_COUNT, STRIP_FRAMES } from '../../src/serve/web/demo/grids';
import { mapCodes } from '../../src/serve/web/demo/map';
import { maxAbsDiff, startServeCli, stopServeCli } from './helpers';
import type { ServeProcess } from './helpers';
import { startStaticServer } from './static-server';
import type { StaticServer } from './static-server';
import { launchChromium } from './web-browsers';
import { assertPixels, assertReconstruction, BROWSER_TOLERANCE, drawStrokes, referenceDecode, SEVEN, SNAPSHOT_SCRIPT, webArtifacts, webSite } from './web-helpers';
import type { DemoSnapshot, WebArtifacts } from './web-helpers';

/** A page with everything that went wrong on it: console errors, failed or foreign requests. */
interface Opened {
  page: Page;
  problems: string[];
}

async function open(browser: Browser, url: string, viewport = { width: 1280, height: 900 }): Promise<Opened> {
  const page = await browser.newPage({ viewport });
  const origin = new URL(url).origin;
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  page.on('request', (r) => !r.url().startsWith(origin) && !r.url().startsWith('data:') && problems.push(`request outside the site: ${r.url()}`));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', undefined, { timeout: 90_000 });
  return { page, problems };
}

const snapshot = async (page: Page): Promise<DemoSnapshot> => JSON.parse((await page.evaluate(SNAPSHOT_SCRIPT)) as string) as DemoSnapshot;

/** Draw strokes (fractions of the pad) with the mouse. */
async function draw(page: Page, strokes: [number, number][][]): Promise<void> {
  await drawStrokes(page, (await page.locator('#pad').boundingBox())!, strokes);
}

/** Evaluate an expression over `window.aekitDemo` once the page is idle (a string: it runs untranspiled). */
async function read<T>(page: Page, expression: string): Promise<T> {
  return JSON.parse((await page.evaluate(`(async () => { const demo = window.aekitDemo; await demo.idle(); return JSON.stringify(${expression}); })()`)) as string) as T;
}

describe('serve/web: the demo page in headless Chromium @slow', function () {
  this.timeout(300_000);
  let artifacts: WebArtifacts;
  let server: StaticServer;
  let browser: Browser | undefined;

  before(async () => {
    artifacts = await webArtifacts();
    server = await startStaticServer((await webSite()).dir);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  describe('the static export on a plain static server, wasm', () => {
    before(async () => {
      browser = await launchChromium(false);
    });

    it('loads with no special headers, says it runs single-threaded wasm, and fetches only its own files without an error @slow', async () => {
      const { page, problems } = await open(browser!, `${server.url}/?model=vae`);
      const demo = await snapshot(page);
      assert.equal(demo.state, 'ready', `${demo.status}\n${problems.join('\n')}`);
      assert.equal(demo.ep, 'wasm');
      assert.equal(demo.isolated, false);
      assert.equal(demo.threads, 1);
      assert.match(demo.status, /^rendered with wasm, 1 wasm thread; crossOriginIsolated: false\n/);
      assert.match(demo.status, /single-threaded wasm: this page is not cross-origin isolated/);
      assert.match(await page.locator('#timing').textContent() ?? '', /decode time per image: output [\d.]+ ms/);
      assert.deepEqual(problems, []);
      assert.ok(!server.requests.some((r) => r.path.includes('favicon')), 'no favicon request');
      assert.deepEqual(server.requests.filter((r) => r.status !== 200), []);
    });

    it('reconstructs strokes drawn with the mouse as onnxruntime-node does, within 1e-3 @slow', async () => {
      const { page, problems } = await open(browser!, `${server.url}/?model=vae`);
      await draw(page, SEVEN);
      const demo = await snapshot(page);
      await assertReconstruction(artifacts, 'vae', demo);
      assert.equal(await page.locator('#output-caption').textContent(), 'reconstruction');
      // The sliders show the drawing's code.
      assert.equal(Number(await page.locator('#z0').inputValue()).toFixed(2), Math.max(-3, Math.min(3, demo.z[0])).toFixed(2));
      // A conditional model encodes and decodes with the picked class.
      await page.goto(`${server.url}/?model=cvae&label=7`);
      await page.waitForFunction(() => document.body.dataset.state !== 'loading');
      await draw(page, SEVEN);
      await assertReconstruction(artifacts, 'cvae', await snapshot(page), 7);
      await page.selectOption('#label', '3');
      await assertReconstruction(artifacts, 'cvae', await snapshot(page), 3);
      assert.deepEqual(problems, []);
    });

    it('takes a picture from "open image", inverts a dark digit on white and reconstructs it within 1e-3 @slow', async () => {
      const { page, problems } = await open(browser!, `${server.url}/?model=vae`);
      // A photo-like picture: a dark "L" on light paper, 90 x 60 px (another aspect than the model's).
      const png = new PNG({ width: 90, height: 60 });
      for (let y = 0; y < 60; y++) {
        for (let x = 0; x < 90; x++) {
          const ink = (x >= 35 && x < 43 && y >= 10 && y < 50) || (x >= 35 && x < 60 && y >= 42 && y < 50);
          png.data.set(ink ? [30, 30, 40, 255] : [235, 232, 225, 255], (y * 90 + x) * 4);
        }
      }
      const file = path.join(path.dirname((await webSite()).dir), 'digit.png');
      writeFileSync(file, PNG.sync.write(png));
      await page.setInputFiles('#file', file);
      await page.waitForFunction(() => (window as unknown as { aekitDemo: { lastInput?: unknown } }).aekitDemo.lastInput !== undefined);
      const demo = await snapshot(page);
      assert.equal(demo.lastInput!.inverted, true, 'the light paper was inverted');
      assert.equal(await page.locator('#invert').isChecked(), true);
      assert.match(await page.locator('#draw-note').textContent() ?? '', /light background, so it was inverted/);
      await assertReconstruction(artifacts, 'vae', demo);
      assert.deepEqual(problems, []);
    });

    it('draws the 2-D manifold, decodes the clicked cell, and moves with the arrow keys @slow', async () => {
      const { page, problems } = await open(browser!, `${server.url}/?model=vae2`);
      const map = await read<{ axis: number[]; data: number[] }>(page, '{ axis: demo.map.axis, data: Array.from(demo.map.images.data) }');
      const n = map.axis.length;
      const expected = await referenceDecode(artifacts, 'vae2', mapCodes(map.axis, new Float32Array(2)), n * n);
      assert.ok(maxAbsDiff(map.data, expected) <= BROWSER_TOLERANCE, 'the map is the decoded grid');
      const box = (await page.locator('#map').boundingBox())!;
      const [row, col] = [3, 11];
      await page.mouse.click(box.x + ((col + 0.5) / n) * box.width, box.y + ((row + 0.5) / n) * box.height);
      let demo = await snapshot(page);
      assert.deepEqual(demo.z, [map.axis[col], map.axis[n - 1 - row]].map(Math.fround), 'the code of the clicked cell (float32)');
      assert.ok(maxAbsDiff(demo.lastImages!.data, await referenceDecode(artifacts, 'vae2', demo.z, 1)) <= BROWSER_TOLERANCE);
      assertPixels(demo.outputPixels, await referenceDecode(artifacts, 'vae2', demo.z, 1));
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowUp');
      demo = await snapshot(page);
      assert.deepEqual(demo.z, [map.axis[col - 1], map.axis[n - 1 - (row - 1)]].map(Math.fround));
      const marker = await page.locator('.marker').evaluate((m) => [m.style.left, m.style.top]);
      assert.deepEqual(marker.map((v) => Number.parseFloat(v).toFixed(3)), [((col - 1) * 100) / n, ((row - 1) * 100) / n].map((v) => v.toFixed(3)));
      assert.deepEqual(problems, []);
    });

    it('reproduces a grid of samples from its seed, and interpolates between two codes @slow', async () => {
      const { page, problems } = await open(browser!, `${server.url}/?model=vae`);
      await page.fill('#seed', '7');
      await page.click('#sample');
      const samples = await read<{ seed: number; z: number[]; data: number[] }>(page, '{ seed: demo.samples.seed, z: Array.from(demo.samples.z), data: Array.from(demo.samples.images.data) }');
      const info = readArtifactInfo(artifacts.part('vae', 'decoder'));
      assert.equal(samples.seed, 7);
      assert.deepEqual(samples.z, Array.from(drawLatents(info, SAMPLE_COUNT, 7)));
      assert.ok(maxAbsDiff(samples.data, await referenceDecode(artifacts, 'vae', samples.z, SAMPLE_COUNT)) <= BROWSER_TOLERANCE);
      assert.match(page.url(), /[?&]seed=7\b/, 'the link reproduces the grid');

      // A from a drawing, B from the sample in the second cell; the strip is the line between them.
      await draw(page, SEVEN);
      await page.click('#set-a');
      const a = (await snapshot(page)).z;
      const grid = (await page.locator('#samples').boundingBox())!;
      await page.mouse.click(grid.x + (1.5 / 4) * grid.width, grid.y + grid.height / 8);
      const b = (await snapshot(page)).z;
      assert.deepEqual(b, samples.z.slice(4, 8));
      await page.click('#set-b');
      const strip = await read<{ a: number[]; b: number[]; codes: number[]; data: number[] }>(page, '{ a: demo.strip.a, b: demo.strip.b, codes: Array.from(demo.strip.codes), data: Array.from(demo.strip.images.data) }');
      assert.deepEqual([strip.a, strip.b], [a, b]);
      assert.deepEqual(strip.codes, Array.from(lerpCodes(Float32Array.from(a), Float32Array.from(b))));
      assert.ok(maxAbsDiff(strip.data, await referenceDecode(artifacts, 'vae', strip.codes, STRIP_FRAMES)) <= BROWSER_TOLERANCE);
      const stripBox = (await page.locator('#strip').boundingBox())!;
      await page.mouse.click(stripBox.x + (3.5 / STRIP_FRAMES) * stripBox.width, stripBox.y + stripBox.height / 2);
      assert.deepEqual((await snapshot(page)).z, strip.codes.slice(12, 16));

      // The animation walks the segment: every code it shows is (1 - t) A + t B.
      await page.click('#play');
      await page.waitForTimeout(600);
      assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'true');
      await page.click('#play');
      const moving = (await snapshot(page)).z;
      const t = (moving[0] - a[0]) / (b[0] - a[0]);
      assert.ok(t >= -1e-6 && t <= 1 + 1e-6, `t = ${t}`);
      moving.forEach((v, i) => assert.ok(Math.abs(v - ((1 - t) * a[i] + t * b[i])) < 1e-4, `z${i} = ${v} is off the segment`));
      assert.deepEqual(problems, []);
    });

    it('picks a class for a conditional model and one-hot classes for a joint VAE @slow', async () => {
      const { page, problems } = await open(browser!, `${server.url}/?model=cvae&z=0.5,-0.5,1`);
      await page.selectOption('#label', '7');
      let demo = await snapshot(page);
      assert.equal(demo.lastImages!.label, 7);
      assert.ok(maxAbsDiff(demo.lastImages!.data, await referenceDecode(artifacts, 'cvae', [0.5, -0.5, 1], 1, 7)) <= BROWSER_TOLERANCE);

      await page.goto(`${server.url}/?model=joint`);
      await page.waitForFunction(() => document.body.dataset.state !== 'loading');
      assert.match(await page.locator('.panel.draw .note').textContent() ?? '', /Drawing is off: the joint-vae encoder has no output that is the decoder's whole input/);
      await page.locator('#c0-3').click();
      demo = await snapshot(page);
      assert.deepEqual(demo.z.slice(3), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
      assert.ok(maxAbsDiff(demo.lastImages!.data, await referenceDecode(artifacts, 'joint', demo.z, 1)) <= BROWSER_TOLERANCE);
      assert.equal(await page.locator('#c0-3').isChecked(), true);
      assert.deepEqual(problems, []);
    });

    it('fits a phone-width viewport and reaches every control from the keyboard @slow', async () => {
      const { page, problems } = await open(browser!, `${server.url}/?model=vae2`, { width: 390, height: 844 });
      await read(page, '0');
      const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth }));
      assert.ok(widths.scroll <= widths.viewport, `the page is ${widths.scroll} px wide in a ${widths.viewport} px viewport`);
      const focused: string[] = [];
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        focused.push(await page.evaluate(() => document.activeElement?.id ?? ''));
      }
      for (const id of ['model', 'clear', 'pen', 'file', 'center', 'invert', 'z0', 'z1', 'random', 'map', 'set-a', 'play', 'seed', 'sample']) assert.ok(focused.includes(id), `Tab reaches #${id} (${focused.join(' ')})`);
      // The seed field works from the keyboard: Enter samples.
      await page.focus('#seed');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('12');
      await page.keyboard.press('Enter');
      assert.equal(await read<number>(page, 'demo.samples.seed'), 12);
      assert.deepEqual(problems, []);
    });
  });

  describe('aekit serve on WebGPU', () => {
    let proc: ServeProcess | undefined;
    before(async () => {
      await browser?.close();
      browser = await launchChromium(true);
      proc = await startServeCli([artifacts.root]);
    });
    after(() => stopServeCli(proc));

    it('picks WebGPU by itself and reconstructs strokes as onnxruntime-node does, within 1e-3 @slow', async () => {
      const { page, problems } = await open(browser!, `${proc!.url}/?model=vae`);
      await draw(page, SEVEN);
      const demo = await snapshot(page);
      assert.equal(demo.ep, 'webgpu', demo.status);
      assert.match(demo.status, /^rendered with webgpu \(.+\); crossOriginIsolated: true\n/);
      await assertReconstruction(artifacts, 'vae', demo);
      assert.deepEqual(problems, []);
    });
  });

  describe('the static export with its isolation service worker', () => {
    let isolated: StaticServer | undefined;
    before(async () => {
      await browser?.close();
      browser = await launchChromium(false);
      const site = await writeWebDemo([artifacts.root], path.join(path.dirname((await webSite()).dir), 'site-coi'), { serviceWorker: true });
      isolated = await startStaticServer(site.dir);
    });
    after(() => isolated?.close());

    it('becomes cross-origin isolated on a server without COOP/COEP and runs wasm on several threads @slow', async () => {
      const page = await browser!.newPage();
      await page.goto(`${isolated!.url}/?model=vae`);
      // The worker reloads the page once it controls it, which may cut a wait short.
      for (let attempt = 0; ; attempt++) {
        try {
          await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', undefined, { timeout: 90_000 });
          break;
        } catch (error) {
          if (attempt > 2 || !/context was destroyed|navigat/i.test((error as Error).message)) throw error;
        }
      }
      const demo = await snapshot(page);
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      assert.equal(demo.state, 'ready', demo.status);
      assert.equal(demo.isolated, true);
      assert.equal(demo.threads, Math.min(4, cores));
      assert.match(demo.status, /isolation service worker: isolated/);
    });
  });

  describe('aekit serve of the shipped classifiers alone', () => {
    let proc: ServeProcess | undefined;
    before(async () => {
      await browser?.close();
      browser = await launchChromium(false);
      proc = await startServeCli([MODELS_DIR]);
    });
    after(() => stopServeCli(proc));

    it('says what its models are and offer instead of decoding, without an error @slow', async () => {
      const { page, problems } = await open(browser!, `${proc!.url}/`);
      const demo = await snapshot(page);
      assert.equal(demo.state, 'ready', demo.status);
      assert.equal(demo.status, 'this page decodes latent codes into images, and no model here has a decoder: colored-mnist-classifier (classifier; API: /classify), mnist-classifier (classifier; API: /classify)');
      assert.deepEqual(problems, []);
    });
  });
});
