/**
 * The "done when", end to end with the built CLI: `aekit quickstart` (shortened) trains
 * the conv VAE, `aekit export runs/quickstart --web site/` writes the static demo, and a plain
 * static file server gives a working page, offline, in Chromium and in Firefox ESR: strokes drawn
 * with the mouse come back reconstructed as onnxruntime-node reconstructs the same pixels.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { Page as PlaywrightPage } from 'playwright-core';
import type { Page as PuppeteerPage } from 'puppeteer-core';
import { runCli } from '../cli/cli-helpers';
import { startStaticServer } from '../serve/static-server';
import type { StaticServer } from '../serve/static-server';
import { FIREFOX, FIREFOX_INSTALL, launchChromium, launchFirefox } from '../serve/web-browsers';
import { assertReconstruction, drawStrokes, SEVEN, SNAPSHOT_SCRIPT, webTempDir } from '../serve/web-helpers';
import type { DemoSnapshot, ModelFiles } from '../serve/web-helpers';

/** Pages of either driver, as far as this test uses them. */
type AnyPage = PlaywrightPage | PuppeteerPage;

describe('e2e: aekit quickstart, then aekit export --web, then any static server @slow', function () {
  this.timeout(600_000);
  let server: StaticServer;
  let files: ModelFiles;
  const problems: string[] = [];

  before(async () => {
    const dir = webTempDir('quickstart');
    const trained = await runCli(['quickstart', '--out-dir', path.join(dir, 'runs'), '--epochs', '1', '--limit', '600', '--no-eval'], { timeoutMs: 400_000 });
    assert.equal(trained.code, 0, trained.stderr);
    const site = path.join(dir, 'site');
    const exported = await runCli(['export', path.join(dir, 'runs', 'quickstart'), '--web', site]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /wrote the static demo of quickstart to .*: 11 files, [\d.]+ MB/);
    files = { encoder: path.join(site, 'models', 'quickstart', 'encoder.onnx'), decoder: path.join(site, 'models', 'quickstart', 'decoder.onnx') };
    server = await startStaticServer(site);
  });
  after(() => server?.close());

  /** On a loaded page: draw a "7", and check the round trip and that nothing went wrong. */
  async function drawAndCheck(page: AnyPage, padBox: () => Promise<{ x: number; y: number; width: number; height: number } | null>): Promise<DemoSnapshot> {
    await drawStrokes(page, (await padBox())!, SEVEN);
    const demo = JSON.parse((await (page as PuppeteerPage).evaluate(SNAPSHOT_SCRIPT)) as string) as DemoSnapshot;
    assert.equal(demo.state, 'ready', demo.status);
    assert.match(demo.status, /^rendered with wasm, 1 wasm thread; crossOriginIsolated: false\nvae, latent size 16/);
    await assertReconstruction(files, undefined, demo);
    assert.deepEqual(problems, []);
    assert.deepEqual(server.requests.filter((r) => r.status !== 200), []);
    return demo;
  }

  it('works in Chromium @slow', async () => {
    const browser = await launchChromium(false);
    try {
      const page = await browser.newPage();
      page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
      page.on('request', (r) => !r.url().startsWith(server.url) && !r.url().startsWith('data:') && problems.push(`request outside the site: ${r.url()}`));
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => document.body.dataset.state !== 'loading', undefined, { timeout: 120_000 });
      await drawAndCheck(page as AnyPage, () => page.locator('#pad').boundingBox());
    } finally {
      await browser.close();
    }
  });

  it('works in Firefox ESR @slow', async function () {
    const browser = await launchFirefox();
    if (!browser) {
      console.log(`      skipped: ${FIREFOX} is missing (or not executable); install it with \`${FIREFOX_INSTALL}\` (.ci/run does)`);
      this.skip();
    }
    try {
      const page = await browser.newPage();
      page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
      page.on('request', (r) => !r.url().startsWith(server.url) && !r.url().startsWith('data:') && problems.push(`request outside the site: ${r.url()}`));
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => document.body.dataset.state !== 'loading', { timeout: 120_000 });
      await drawAndCheck(page, async () => (await page.$('#pad'))!.boundingBox());
    } finally {
      await browser.close();
    }
  });
});
