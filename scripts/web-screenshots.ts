/**
 * Regenerates docs/figures/web/ (run: `npx tsx scripts/web-screenshots.ts`; `npm run build` first,
 * for the web module): trains the recipe experiments/mnist-vae-2d.json (a conv VAE with a 2-D
 * latent, 20,000 bundled MNIST images, seed 0) on the ort engine where it can (a few minutes on 2
 * cores), writes its static demo as `aekit export --web` does, serves it with a
 * plain static server, draws a "0" on the pad with the mouse in headless Chromium and screenshots
 * the page at a laptop and a phone viewport. Nothing is downloaded.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportWebDemo } from '../src/serve/static-site';
import { train } from '../src/train/trainer';
import { startStaticServer } from '../test/serve/static-server';
import { launchChromium } from '../src/core/browser';

const OUT = path.join(__dirname, '..', 'docs', 'figures', 'web');
const RECIPE = path.join(__dirname, '..', 'experiments', 'mnist-vae-2d.json');
/** The grid of samples shown. */
const SAMPLE_SEED = 2;
const VIEWPORTS = [
  { file: 'demo-laptop.png', width: 1280, height: 800, fullPage: true },
  { file: 'demo-phone.png', width: 390, height: 844, fullPage: false },
] as const;

/** A "0", in fractions of the pad: an upright ellipse drawn in one stroke, a little open at the top. */
const ZERO: [number, number][] = Array.from({ length: 26 }, (_, i) => {
  const angle = -Math.PI / 2 + 0.15 + (i / 25) * 2 * Math.PI;
  return [0.5 + 0.2 * Math.cos(angle), 0.5 + 0.3 * Math.sin(angle)];
});

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-web-shots-'));
  try {
    const started = Date.now();
    const recipe = JSON.parse(readFileSync(RECIPE, 'utf8')) as { train: Record<string, unknown> };
    const run = await train({ ...recipe, outDir: path.join(work, 'runs'), train: { ...recipe.train, engine: 'auto' } }, {});
    console.log(`trained ${run.runDir} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const site = await exportWebDemo(run.runDir, path.join(work, 'site'), { title: 'aekit demo: a 2-D VAE on MNIST' });
    const server = await startStaticServer(site.dir);
    const { browser, chromium } = await launchChromium({ gpu: 'off' });
    console.log(`Chromium: ${chromium.description}`);
    try {
      await fs.mkdir(OUT, { recursive: true });
      for (const viewport of VIEWPORTS) {
        const page = await browser.newPage({ viewport: { width: viewport.width, height: viewport.height } });
        await page.goto(`${server.url}/?seed=${SAMPLE_SEED}`);
        await page.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 120_000 });
        const pad = page.locator('#pad');
        await pad.scrollIntoViewIfNeeded();
        const box = (await pad.boundingBox())!;
        await page.mouse.move(box.x + ZERO[0][0] * box.width, box.y + ZERO[0][1] * box.height);
        await page.mouse.down();
        for (const [x, y] of ZERO.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 10 });
        await page.mouse.up();
        await page.evaluate('window.aekitDemo.idle()');
        await page.evaluate('window.scrollTo(0, 0)');
        const file = path.join(OUT, viewport.file);
        await page.screenshot({ path: file, fullPage: viewport.fullPage });
        console.log(`wrote ${path.relative(process.cwd(), file)} (${viewport.width}x${viewport.height})`);
        await page.close();
      }
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
