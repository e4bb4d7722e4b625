/**
 * The demo page (`aekit serve`'s `/` and the page of `aekit export --web`), as one call:
 * `mountDemo(element, { models, wasmPaths })` lists the models, loads one (decoder and encoder)
 * with onnxruntime-web, and wires the drawing pad, the latent controls, the 2-D map, the
 * interpolation strip and the seeded samples around one output image.
 *
 * Query parameters (links and tests): `model`, `ep` (auto|webgpu|wasm), `z` (comma-separated
 * latent values), `label`, `seed`. The returned handle (the page stores it as `window.aekitDemo`)
 * exposes the state, the loaded model and the last inputs and outputs.
 */
import { drawLatents, MAX_SEED } from '../../../artifact/prior';
import { drawImages } from '../draw';
import { loadModel } from '../encoder';
import type { Encoder, WebModel } from '../encoder';
import type { Decoder } from '../decoder';
import { WEB_EXECUTION_PROVIDERS } from '../ort';
import type { WebExecutionProvider } from '../ort';
import type { ImageBatch } from '../tensors';
import { SAMPLE_COUNT, wireSamples, wireStrip } from './grids';
import type { SampleGrid, Strip } from './grids';
import { latentLayout, wireLatent } from './latent';
import type { LatentControls, LatentLayout } from './latent';
import { wireMap } from './map';
import type { LatentMap } from './map';
import { fetchModelList, noDecoderNote } from './model-list';
import { padSize, wirePad } from './pad';
import type { Pad } from './pad';
import { Scheduler } from './scheduler';
import { DEMO_CSS } from './style';
import { buildLayout, h } from './ui';
import type { Layout } from './ui';

/** Where the demo's page is in its life. */
export type DemoState = 'loading' | 'ready' | 'error';

/** Options of {@link mountDemo}. */
export interface DemoOptions {
  /** URL of the model list: `aekit serve`'s `v1/models`, or a static export's `manifest.json`. */
  models: string;
  /** URL prefix (relative to the page, or absolute) of onnxruntime-web's `.mjs`/`.wasm` files. */
  wasmPaths: string;
  /** The query parameters (default: the page's). */
  params?: URLSearchParams;
  /** What the static export's isolation shim reported ('isolated', 'refused', ...), shown in the status. */
  isolation?: string;
  /** Called on every state change (the page mirrors it on `<body data-state>`). */
  onState?(state: DemoState): void;
}

/** Time per decoded image of each view's last run, in ms. */
export type DemoTimings = Partial<Record<'output' | 'reconstruct' | 'map' | 'samples' | 'strip', { msPerImage: number; images: number }>>;

/** The live demo: its state, model and last results (what tests and the console read). */
export interface DemoHandle {
  state: DemoState;
  /** Notes and warnings of the loaders, as `level: message`. */
  notes: string[];
  error?: string;
  model?: WebModel;
  decoder?: Decoder;
  encoder?: Encoder;
  /** The WebGPU adapter's description, when the decoder runs on WebGPU. */
  adapter?: string;
  /** The current code and class. */
  z: number[];
  label?: number;
  /** The last output image, with the code and class it was decoded from; `source` says whether a drawing gave the code. */
  lastImages?: { data: number[]; shape: number[]; valueRange: string; z: number[]; label?: number; source: 'z' | 'drawing' };
  /** The last model input taken from the pad (NCHW values in the model's range). */
  lastInput?: { data: number[]; shape: number[]; inverted: boolean };
  map?: { axis: number[]; images?: ImageBatch };
  samples?: { seed: number; z: Float32Array; images: ImageBatch };
  strip?: { a: number[]; b: number[]; codes: Float32Array; images?: ImageBatch };
  timings: DemoTimings;
  /** Resolves when the page has loaded (or failed to). */
  ready: Promise<void>;
  /** Decode the current code again. */
  render(): Promise<void>;
  /** Resolves once every queued decode has run. */
  idle(): Promise<void>;
}

let styled = false;

/** Mount the demo in `root`; the handle is returned at once and fills in as the page loads. */
export function mountDemo(root: HTMLElement, options: DemoOptions): DemoHandle {
  if (!styled) {
    document.head.append(h('style', { id: 'aekit-demo-style' }, DEMO_CSS));
    styled = true;
  }
  root.classList.add('aekit-demo');
  const scheduler = new Scheduler((error) => fail(error));
  const handle: DemoHandle = { state: 'loading', notes: [], z: [], timings: {}, ready: Promise.resolve(), render: async () => {}, idle: () => scheduler.idle() };
  let status: HTMLElement = h('div', { class: 'status', id: 'status', role: 'status', text: 'loading...' });
  root.replaceChildren(status);
  const setState = (state: DemoState, text: string) => {
    handle.state = state;
    root.dataset.state = state;
    status.textContent = text;
    options.onState?.(state);
  };
  const fail = (error: unknown) => {
    console.error(error);
    handle.error = error instanceof Error ? error.message : String(error);
    setState('error', handle.error);
  };
  handle.ready = start(root, options, handle, scheduler, (s) => (status = s), setState).catch(fail);
  return handle;
}

async function start(root: HTMLElement, options: DemoOptions, handle: DemoHandle, scheduler: Scheduler, useStatus: (s: HTMLElement) => void, setState: (s: DemoState, text: string) => void): Promise<void> {
  const params = options.params ?? new URLSearchParams(location.search);
  const { models: listed, others } = await fetchModelList(options.models);
  if (listed.length === 0) {
    // A server of classifiers, say: nothing to decode, and not a fault of the page.
    setState('ready', noDecoderNote(others));
    return;
  }
  const name = params.get('model') ?? listed[0].name;
  const entry = listed.find((m) => m.name === name);
  if (!entry) throw new Error(`no model '${name}'; models: ${listed.map((m) => m.name).join(', ')}`);
  const ep = params.get('ep') ?? 'auto';
  if (ep !== 'auto' && !(WEB_EXECUTION_PROVIDERS as readonly string[]).includes(ep)) throw new Error(`ep must be auto, ${WEB_EXECUTION_PROVIDERS.join(' or ')}; got '${ep}'`);

  const model = await loadModel(
    { decoder: entry.artifacts.decoder!.url, encoder: entry.artifacts.encoder?.url },
    {
      executionProviders: ep === 'auto' ? 'auto' : [ep as WebExecutionProvider],
      wasmPaths: new URL(options.wasmPaths, location.href).href,
      log: (level, message) => {
        handle.notes.push(`${level}: ${message}`);
        (level === 'warn' ? console.warn : console.info)(`aekit-web: ${message}`);
      },
    },
  );
  const { decoder, encoder } = model;
  Object.assign(handle, { model, decoder, encoder });
  // A session's first run sets up its kernels (ten times a later run): do it before anything is timed.
  await decoder.decode(new Float32Array(decoder.latentSize), decoder.conditional ? { label: 0 } : {});
  if (encoder) await encoder.encode(new Float32Array(encoder.imageShape.channels * encoder.imageShape.height * encoder.imageShape.width), encoder.conditional ? { label: 0 } : {});
  if (decoder.executionProvider === 'webgpu') {
    const info = (await (navigator as unknown as { gpu: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }).gpu.requestAdapter())?.info;
    handle.adapter = info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') : 'unknown adapter';
  }

  const size = decoder.latentSize;
  const zParam = params.get('z');
  const z0 = zParam ? zParam.split(',').map(Number) : new Array<number>(size).fill(0);
  if (z0.length !== size || z0.some((v) => !Number.isFinite(v))) throw new Error(`z must be ${size} comma-separated numbers, got ${zParam}`);
  const layoutOf: LatentLayout = latentLayout(decoder.info, size);
  if (layoutOf.categorical && !zParam) {
    // Start on a valid categorical code: class 0 of every variable.
    for (let v = 0; v < layoutOf.categorical.variables; v++) z0[layoutOf.gaussian + v * layoutOf.categorical.classes] = 1;
  }
  handle.z = z0;
  if (decoder.conditional) {
    const label = Number(params.get('label') ?? 0);
    if (!Number.isInteger(label) || label < 0 || label >= decoder.numClasses!) throw new Error(`label must be a class in 0..${decoder.numClasses! - 1}, got ${params.get('label')}`);
    handle.label = label;
  }
  const seedParam = Number(params.get('seed') ?? 0);
  const seed = Number.isInteger(seedParam) && seedParam >= 0 && seedParam <= MAX_SEED ? seedParam : 0;

  const shape = decoder.imageShape;
  const ui: Layout = buildLayout(root, {
    models: listed,
    selected: name,
    imageShape: shape,
    numClasses: decoder.conditional ? decoder.numClasses : undefined,
    canDraw: encoder !== undefined,
    whyNoDraw: model.whyNoEncoder,
    pad: padSize(shape),
    canSample: decoder.canSample,
    whyNoSample: decoder.info.whyNoSample,
    hasMap: layoutOf.gaussian === 2,
  });
  useStatus(ui.status);
  ui.model.addEventListener('change', () => {
    const next = new URLSearchParams(params);
    next.set('model', ui.model.value);
    for (const key of ['z', 'label']) next.delete(key);
    location.search = next.toString();
  });
  const labelOption = () => (decoder.conditional ? { label: handle.label! } : {});
  const time = async <T>(key: keyof DemoTimings, images: number, job: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await job();
    handle.timings[key] = { msPerImage: (performance.now() - t0) / images, images };
    ui.timing.textContent = timingLine(handle.timings);
    return out;
  };
  const decodeRows = (key: keyof DemoTimings) => (codes: Float32Array) => time(key, codes.length / size, () => decoder.decode(codes, labelOption()));

  // The output: decoded from the current code, or reconstructed from the pad.
  let pad: Pad | undefined;
  let controls: LatentControls | undefined;
  let map: LatentMap | undefined;
  let strip: Strip | undefined;
  let samples: SampleGrid | undefined;
  const showOutput = (images: ImageBatch, source: 'z' | 'drawing') => {
    drawImages(ui.output, images);
    ui.outputCaption.textContent = source === 'drawing' ? 'reconstruction' : 'decoded from the code';
    handle.lastImages = { data: Array.from(images.data), shape: images.shape, valueRange: images.valueRange, z: handle.z.slice(), label: handle.label, source };
  };
  const renderCode = () =>
    scheduler.coalesce('output', async () => {
      const z = Float32Array.from(handle.z);
      showOutput(await time('output', 1, () => decoder.decode(z, labelOption())), 'z');
    });
  const renderDrawing = () =>
    scheduler.coalesce('output', async () => {
      const input = pad?.read();
      if (!input || !encoder) return;
      drawImages(ui.input, input.batch);
      handle.lastInput = { data: Array.from(input.batch.data), shape: input.batch.shape, inverted: input.inverted };
      const out = await time('reconstruct', 1, () => model.reconstruct(input.batch, labelOption()));
      handle.z = Array.from(out.z);
      controls?.show(out.z);
      map?.mark(out.z);
      showOutput(out, 'drawing');
    });
  let mapBase = '';
  const renderMap = () => {
    if (!map) return;
    const base = Float32Array.from(handle.z);
    // The map covers z0 and z1; only the rest of the code (the categorical part) or the class redraws it.
    const key = JSON.stringify([Array.from(base.subarray(2)), handle.label]);
    if (key === mapBase) return;
    mapBase = key;
    scheduler.coalesce('map', async () => {
      const images = await map!.render(base, decodeRows('map'));
      handle.map = { axis: [...map!.axis], images };
    });
  };
  const ab = { a: Float32Array.from(handle.z), b: Float32Array.from(handle.z) };
  const renderStrip = () =>
    scheduler.coalesce('strip', async () => {
      const { a, b } = ab;
      let images: ImageBatch | undefined;
      const codes = await strip!.render(a, b, async (c) => (images = await decodeRows('strip')(c)));
      handle.strip = { a: Array.from(a), b: Array.from(b), codes, images };
    });
  const renderSamples = (s: number) => {
    if (!decoder.canSample) return;
    scheduler.coalesce('samples', async () => {
      const out = await time('samples', SAMPLE_COUNT, () => decoder.sample(SAMPLE_COUNT, s, labelOption()));
      samples!.show(out, out.z);
      handle.samples = { seed: s, z: out.z, images: out };
      if (!options.params) {
        const url = new URL(location.href);
        url.searchParams.set('seed', String(s));
        history.replaceState(null, '', url);
      }
    });
  };
  const setCode = (z: Float32Array, fromAnimation = false) => {
    if (!fromAnimation) strip?.stop();
    handle.z = Array.from(z);
    controls?.show(z);
    map?.mark(z);
    renderCode();
    renderMap();
  };
  handle.render = async () => {
    renderCode();
    await scheduler.idle();
  };

  if (encoder) pad = wirePad(ui.pad, ui.drawTools, ui.drawNote, shape, decoder.valueRange, renderDrawing);
  controls = wireLatent(ui.latent, layoutOf, decoder.info, () => Float32Array.from(handle.z), (z) => setCode(z));
  if (layoutOf.gaussian === 2) map = wireMap(ui.map, ui.mapMarker, (a, b) => setCode(Float32Array.from(handle.z, (v, i) => (i === 0 ? a : i === 1 ? b : v))));
  strip = wireStrip(ui.strip, ui.stripTools, shape, {
    setA: () => ((ab.a = Float32Array.from(handle.z)), renderStrip()),
    setB: () => ((ab.b = Float32Array.from(handle.z)), renderStrip()),
    select: (z) => setCode(z),
    animate: (z) => setCode(z, true),
    endpoints: () => [ab.a, ab.b],
  });
  samples = wireSamples(ui.samples, ui.samplesTools, shape, seed, { sample: renderSamples, select: (z) => setCode(z) });
  if (decoder.conditional) {
    ui.label.value = String(handle.label);
    ui.label.addEventListener('change', () => {
      handle.label = Number(ui.label.value);
      if (handle.lastImages?.source === 'drawing') renderDrawing();
      else renderCode();
      renderMap();
      renderStrip();
      renderSamples(samples!.seed());
    });
  }

  controls.show(handle.z);
  map?.mark(handle.z);
  renderCode();
  renderMap();
  if (decoder.canSample) {
    // A and B start as the first two samples of the grid, so the strip shows something at once.
    const first = drawLatents(decoder.info, 2, seed);
    [ab.a, ab.b] = [first.slice(0, size), first.slice(size)];
  }
  renderStrip();
  renderSamples(seed);
  await scheduler.idle();
  if (handle.state === 'error') return;

  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threads = decoder.executionProvider === 'wasm' ? `, ${decoder.threads} wasm thread${decoder.threads === 1 ? '' : 's'}` : '';
  const singleThreaded = decoder.executionProvider === 'wasm' && !isolated;
  // The loader's thread fall-back warning: the single-threaded line below says it on wasm, and on WebGPU it hardly matters.
  const warnings = handle.notes.filter((n) => n.startsWith('warn') && !n.startsWith('warn: falling back to 1 wasm thread'));
  setState(
    'ready',
    `rendered with ${decoder.executionProvider}${handle.adapter ? ` (${handle.adapter})` : ''}${threads}; crossOriginIsolated: ${isolated}\n` +
      `${decoder.family}, latent size ${size}, ${decoder.valueRange} value range` +
      (singleThreaded ? '\nsingle-threaded wasm: this page is not cross-origin isolated (no COOP/COEP headers)' : '') +
      (options.isolation ? `\nisolation service worker: ${options.isolation}` : '') +
      (warnings.length ? `\n${warnings.join('\n')}` : ''),
  );
}

function timingLine(timings: DemoTimings): string {
  const parts = Object.entries(timings).map(([view, t]) => `${view} ${t!.msPerImage < 1 ? t!.msPerImage.toFixed(2) : t!.msPerImage.toFixed(1)} ms${t!.images > 1 ? ` (${t!.images} images)` : ''}`);
  return `decode time per image: ${parts.join(' · ')}`;
}
