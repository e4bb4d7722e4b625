/**
 * The static export in Firefox ESR (Debian's `firefox-esr`, driven over WebDriver BiDi by
 * puppeteer-core), served by a plain static server with no special headers: the page loads offline
 * on wasm, strokes drawn with the mouse are reconstructed as onnxruntime-node reconstructs the same
 * pixels (within 1e-3), and the 2-D map decodes the clicked cell. Skipped, with the install
 * command, where Firefox ESR is not installed (.ci/run installs it).
 */
import { strict as assert } from 'node:assert';
import type { Browser, Page } from 'puppeteer-core';
import { maxAbsDiff } from './helpers';
import { startStaticServer } from './static-server';
import type { StaticServer } from './static-server';
import { FIREFOX, FIREFOX_INSTALL, launchFirefox } from './web-browsers';
import { assertPixels, assertReconstruction, BROWSER_TOLERANCE, drawStrokes, referenceDecode, SEVEN, SNAPSHOT_SCRIPT, webArtifacts, webSite } from './web-helpers';
import type { DemoSnapshot, WebArtifacts } from './web-helpers';

describe('serve/web: the static export in Firefox ESR @slow', function () {
  this.timeout(300_000);
  let artifacts: WebArtifacts;
  let server: StaticServer | undefined;
  let browser: Browser | undefined;

  before(async function () {
    browser = await launchFirefox();
    if (!browser) {
      console.log(`      skipped: ${FIREFOX} is missing (or not executable); install it with \`${FIREFOX_INSTALL}\` (.ci/run does)`);
      this.skip();
    }
    artifacts = await webArtifacts();
    server = await startStaticServer((await webSite()).dir);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Open the page, collecting console errors, failed requests and requests outside the site. */
  async function open(url: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const problems: string[] = [];
    const origin = new URL(url).origin;
    page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
    page.on('request', (r) => !r.url().startsWith(origin) && !r.url().startsWith('data:') && problems.push(`request outside the site: ${r.url()}`));
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.state !== 'loading', { timeout: 90_000 });
    return { page, problems };
  }

  const snapshot = async (page: Page): Promise<DemoSnapshot> => JSON.parse((await page.evaluate(SNAPSHOT_SCRIPT)) as string) as DemoSnapshot;

  async function draw(page: Page, strokes: [number, number][][]): Promise<void> {
    await drawStrokes(page, (await (await page.$('#pad'))!.boundingBox())!, strokes);
  }

  it('runs offline on single-threaded wasm and reconstructs strokes drawn with the mouse as onnxruntime-node does, within 1e-3 @slow', async () => {
    const { page, problems } = await open(`${server!.url}/?model=vae`);
    let demo = await snapshot(page);
    assert.equal(demo.state, 'ready', `${demo.status}\n${problems.join('\n')}`);
    assert.match(await page.evaluate(() => navigator.userAgent), /Firefox\//);
    assert.equal(demo.ep, 'wasm');
    assert.equal(demo.threads, 1);
    assert.match(demo.status, /single-threaded wasm: this page is not cross-origin isolated/);
    await draw(page, SEVEN);
    demo = await snapshot(page);
    await assertReconstruction(artifacts, 'vae', demo);
    assert.deepEqual(problems, []);
    assert.deepEqual(server!.requests.filter((r) => r.status !== 200), []);
  });

  it('decodes the cell of the 2-D map that is clicked @slow', async () => {
    const { page, problems } = await open(`${server!.url}/?model=vae2`);
    const axis = JSON.parse((await page.evaluate(`(async () => { await window.aekitDemo.idle(); return JSON.stringify(window.aekitDemo.map.axis); })()`)) as string) as number[];
    const n = axis.length;
    const map = (await page.$('#map'))!;
    await map.scrollIntoView();
    const box = (await map.boundingBox())!;
    const [row, col] = [12, 2];
    // Scrolled into view, so the box is where the mouse clicks.
    await page.mouse.click(box.x + ((col + 0.5) / n) * box.width, box.y + ((row + 0.5) / n) * box.height);
    const demo = await snapshot(page);
    assert.deepEqual(demo.z, [axis[col], axis[n - 1 - row]].map(Math.fround));
    const expected = await referenceDecode(artifacts, 'vae2', demo.z, 1);
    assert.ok(maxAbsDiff(demo.lastImages!.data, expected) <= BROWSER_TOLERANCE);
    assertPixels(demo.outputPixels, expected);
    assert.deepEqual(problems, []);
  });
});
