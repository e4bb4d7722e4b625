/**
 * Shared by the web demo tests: the serve tests' tiny runs plus a 2-D VAE (for the latent map) and
 * a joint VAE (for the categorical toggles), a static export of all of them, and the checks that
 * tie what a page shows to onnxruntime-node's numbers for the same inputs.
 */
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportRun } from '../../src/export/run-export';
import { writeWebDemo } from '../../src/serve/static-site';
import type { WebDemoResult } from '../../src/serve/static-site';
import { toPixelByte } from '../../src/serve/web/image-math';
import type { RunConfigInput } from '../../src/run/config';
import { train } from '../../src/train/trainer';
import { maxAbsDiff, oneHot, ortReference, testArtifacts } from './helpers';

/** The tolerance between a browser's numbers and onnxruntime-node's. */
export const BROWSER_TOLERANCE = 1e-3;

/** Artifacts of every test model: `root/<name>/{encoder,decoder}.onnx`. */
export interface WebArtifacts {
  root: string;
  part(model: WebModelName, part: 'encoder' | 'decoder'): string;
  /** The run folders of the extra models (for `exportWebDemo` and `aekit export --web`). */
  runs: Record<'vae2' | 'joint', string>;
}
/** The models of the web tests. */
export type WebModelName = 'vae' | 'cvae' | 'ae' | 'vae2' | 'joint';

const EXTRA: Record<'vae2' | 'joint', RunConfigInput['model']> = {
  vae2: { family: 'vae', architecture: 'mlp', hiddenSizes: [32], latentSize: 2 },
  joint: { family: 'joint-vae', architecture: 'mlp', hiddenSizes: [32], latentSize: 3, categorical: { variables: 1, classes: 10 } } as RunConfigInput['model'],
};

let built: Promise<WebArtifacts> | undefined;
let tmpRoot: string | undefined;

/** Train and export the extra runs once per mocha process, beside a copy of the serve tests' runs. */
export function webArtifacts(): Promise<WebArtifacts> {
  built ??= (async () => {
    const base = await testArtifacts();
    tmpRoot ??= mkdtempSync(path.join(os.tmpdir(), 'aekit-web-'));
    const root = path.join(tmpRoot, 'models');
    cpSync(base.root, root, { recursive: true });
    const runs: Record<string, string> = {};
    for (const [name, model] of Object.entries(EXTRA)) {
      const run = await train({ name, outDir: path.join(tmpRoot, 'runs'), model, data: { dataset: { name: 'mnist', limit: 300 } }, train: { epochs: 1, batchSize: 50, backend: 'wasm', seed: 1 } }, {});
      await exportRun(run.runDir, { out: path.join(root, name), verify: false });
      runs[name] = run.runDir;
    }
    return { root, part: (model: WebModelName, part: 'encoder' | 'decoder') => path.join(root, model, `${part}.onnx`), runs: runs as WebArtifacts['runs'] };
  })();
  return built;
}

/** A fresh temporary folder, removed when mocha exits. */
export function webTempDir(name: string): string {
  if (!tmpRoot) tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'aekit-web-'));
  return mkdtempSync(path.join(tmpRoot, `${name}-`));
}

/** A static export of every test model, written once per mocha process. */
let site: Promise<WebDemoResult> | undefined;
export function webSite(): Promise<WebDemoResult> {
  site ??= (async () => writeWebDemo([(await webArtifacts()).root], path.join(tmpRoot!, 'site')))();
  return site;
}

process.on('exit', () => {
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});

/** What a test reads of the demo page after it settles (numbers as plain arrays). */
export interface DemoSnapshot {
  state: string;
  status: string;
  error?: string;
  ep: string;
  threads: number;
  isolated: boolean;
  z: number[];
  label?: number;
  lastImages?: { data: number[]; shape: number[]; source: string; z: number[]; label?: number };
  lastInput?: { data: number[]; shape: number[]; inverted: boolean };
  /** The output canvas's red channel (grey models), one value per pixel. */
  outputPixels: number[];
}

/** The script a test runs in the page to wait for it to settle and read it (a string: it runs untranspiled in any browser). */
export const SNAPSHOT_SCRIPT = `(async () => {
  const demo = window.aekitDemo;
  await demo.ready;
  await demo.idle();
  const canvas = document.getElementById('canvas');
  const rgba = canvas ? canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data : [];
  const red = [];
  for (let i = 0; i < rgba.length; i += 4) red.push(rgba[i]);
  return JSON.stringify({
    state: demo.state, status: document.getElementById('status').textContent, error: demo.error,
    ep: demo.decoder ? demo.decoder.executionProvider : '', threads: demo.decoder ? demo.decoder.threads : 0,
    isolated: crossOriginIsolated, z: demo.z, label: demo.label,
    lastImages: demo.lastImages, lastInput: demo.lastInput, outputPixels: red,
  });
})()`;

type Feeds = Record<string, { data: Float32Array; dims: number[] }>;

/** A run's encoder and decoder files, or a test model's name. */
export type ModelFiles = { encoder: string; decoder: string };

/** The onnxruntime-node reconstruction of the page's input: encoder -> mu/code -> decoder. */
export async function referenceReconstruction(files: ModelFiles, input: number[], label?: number): Promise<{ z: Float32Array; image: Float32Array }> {
  const labelFeed: Feeds = label === undefined ? {} : { label: { data: oneHot([label], 10), dims: [1, 10] } };
  const codes = await ortReference(files.encoder, { image: { data: Float32Array.from(input), dims: [1, 1, 28, 28] }, ...labelFeed });
  const z = codes.mu ?? codes.code;
  const decoded = await ortReference(files.decoder, { z: { data: z, dims: [1, z.length] }, ...labelFeed });
  return { z, image: decoded.image };
}

/** The onnxruntime-node decoding of rows of codes. */
export async function referenceDecode(artifacts: WebArtifacts, model: WebModelName, z: ArrayLike<number>, rows: number, label?: number): Promise<Float32Array> {
  const labelFeed: Feeds = label === undefined ? {} : { label: { data: oneHot(new Array<number>(rows).fill(label), 10), dims: [rows, 10] } };
  return (await ortReference(artifacts.part(model, 'decoder'), { z: { data: Float32Array.from(z), dims: [rows, z.length / rows] }, ...labelFeed })).image;
}

/**
 * The page drew with the mouse and reconstructed its drawing as onnxruntime-node does: the input has
 * ink, the code and the image match within the tolerance, and the output canvas shows the image.
 */
export async function assertReconstruction(artifacts: WebArtifacts | ModelFiles, model: WebModelName | undefined, demo: DemoSnapshot, label?: number): Promise<void> {
  assert.equal(demo.state, 'ready', demo.status);
  assert.ok(demo.lastInput && demo.lastImages, 'the page took an input from the pad');
  assert.equal(demo.lastImages.source, 'drawing');
  assert.deepEqual(demo.lastInput.shape, [1, 1, 28, 28]);
  const ink = demo.lastInput.data.filter((v) => v > 0.5).length;
  assert.ok(ink > 20 && ink < 400, `the strokes inked ${ink} of 784 pixels`);
  const files = 'part' in artifacts ? { encoder: artifacts.part(model!, 'encoder'), decoder: artifacts.part(model!, 'decoder') } : artifacts;
  const reference = await referenceReconstruction(files, demo.lastInput.data, label);
  const zDiff = maxAbsDiff(demo.z, reference.z);
  assert.ok(zDiff <= BROWSER_TOLERANCE, `max |code in the page - onnxruntime-node| = ${zDiff}`);
  const diff = maxAbsDiff(demo.lastImages.data, reference.image);
  assert.ok(diff <= BROWSER_TOLERANCE, `max |reconstruction in the page - onnxruntime-node| = ${diff}`);
  assertPixels(demo.outputPixels, reference.image);
}

/** Every canvas pixel is the 8-bit rounding of the expected value, within the tolerance. */
export function assertPixels(pixels: number[], expected: Float32Array): void {
  assert.equal(pixels.length, expected.length);
  // The canvas stores round(v * 255); a value within the tolerance may round one step away.
  const worst = pixels.reduce((w, p, i) => Math.max(w, Math.abs(p - toPixelByte(expected[i], 'unit'))), 0);
  assert.ok(worst <= 1, `a canvas pixel is ${worst} steps off the expected image`);
}

/** The mouse of a playwright or puppeteer page. */
export interface MousePage {
  mouse: { move(x: number, y: number, options?: { steps?: number }): Promise<unknown>; down(): Promise<unknown>; up(): Promise<unknown> };
}

/** Draw strokes, given in fractions of the pad's on-screen box, with the mouse. */
export async function drawStrokes(page: MousePage, box: { x: number; y: number; width: number; height: number }, strokes: [number, number][][]): Promise<void> {
  for (const stroke of strokes) {
    const [x0, y0] = stroke[0];
    await page.mouse.move(box.x + x0 * box.width, box.y + y0 * box.height);
    await page.mouse.down();
    for (const [x, y] of stroke.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 12 });
    await page.mouse.up();
  }
}

/** Strokes of a "7" over the pad, in fractions of its width and height. */
export const SEVEN: [number, number][][] = [
  [
    [0.28, 0.25],
    [0.72, 0.25],
    [0.45, 0.8],
  ],
];
