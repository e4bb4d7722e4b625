/**
 * The demo page at `/`: pick a model, move latent sliders, pick a class (conditional models), press
 * "random"; the decoder runs in the browser with aekit's web module (WebGPU when the browser has a
 * WebGPU adapter, else wasm) and the page says which provider it used. The server only hands out files.
 *
 * Query parameters (for links and tests): `model`, `ep` (auto|webgpu|wasm), `z` (comma-separated
 * latent values), `label`. `window.aekitDemo` exposes the state, the decoder and the last output;
 * `document.body.dataset.state` is `loading`, `ready` or `error`.
 */
import { ORT_URL_PREFIX, ORT_WEB_ENTRY, WEB_MODULE_URL } from './static-files';

/** The page's HTML (static; the page asks `/v1/models` what to show). */
export function demoPageHtml(): string {
  const importMap = JSON.stringify({ imports: { 'onnxruntime-web': `${ORT_URL_PREFIX}${ORT_WEB_ENTRY}` } });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aekit decoder demo</title>
<script type="importmap">${importMap}</script>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 44rem; padding: 0 1rem; color: #222; }
  .row { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin: .5rem 0; }
  canvas { width: 280px; image-rendering: pixelated; border: 1px solid #ccc; background: #fff; }
  #sliders { display: grid; grid-template-columns: 3rem 1fr 4rem; gap: .2rem .6rem; align-items: center; }
  #status { font-family: ui-monospace, monospace; font-size: 13px; white-space: pre-wrap; }
  body[data-state="error"] #status { color: #b00; }
</style>
</head>
<body data-state="loading">
<h1>aekit decoder demo</h1>
<p>The decoder runs in this browser (onnxruntime-web); the server only serves the ONNX artifact.</p>
<div class="row">
  <label>model <select id="model"></select></label>
  <label id="label-row" hidden>class <select id="label"></select></label>
  <button id="random" type="button">random</button>
</div>
<div id="status">loading...</div>
<div class="row"><canvas id="canvas" width="28" height="28"></canvas></div>
<div id="sliders"></div>
<script type="module">
import { drawImages, loadDecoder, normalSamples } from '${WEB_MODULE_URL}';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const demo = (window.aekitDemo = { state: 'loading', notes: [], decoder: null, lastImages: null, z: null, label: undefined });
const setState = (state, text) => {
  demo.state = state;
  document.body.dataset.state = state;
  $('status').textContent = text;
};

try {
  const response = await fetch('/v1/models');
  if (!response.ok) throw new Error('GET /v1/models: HTTP ' + response.status);
  const decoders = (await response.json()).models.filter((m) => m.artifacts.decoder);
  if (decoders.length === 0) throw new Error('the server has no decoder models');
  const name = params.get('model') ?? decoders[0].name;
  const model = decoders.find((m) => m.name === name);
  if (!model) throw new Error("no decoder model '" + name + "'; models: " + decoders.map((m) => m.name).join(', '));
  for (const m of decoders) $('model').add(new Option(m.name + ' (' + m.family + ')', m.name, false, m.name === name));
  $('model').onchange = () => { params.set('model', $('model').value); params.delete('z'); params.delete('label'); location.search = params.toString(); };

  const ep = params.get('ep') ?? 'auto';
  const decoder = await loadDecoder(model.artifacts.decoder.url, {
    executionProviders: ep === 'auto' ? 'auto' : [ep],
    wasmPaths: '${ORT_URL_PREFIX}',
    log: (level, message) => { demo.notes.push(level + ': ' + message); (level === 'warn' ? console.warn : console.info)('aekit-web: ' + message); },
  });
  demo.decoder = decoder;
  let adapter = '';
  if (decoder.executionProvider === 'webgpu') {
    const info = (await navigator.gpu.requestAdapter())?.info;
    adapter = info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') : 'unknown adapter';
  }
  demo.adapter = adapter;

  const size = decoder.latentSize;
  const zParam = params.get('z');
  demo.z = zParam ? zParam.split(',').map(Number) : new Array(size).fill(0);
  if (demo.z.length !== size || demo.z.some((v) => !Number.isFinite(v))) throw new Error('z must be ' + size + ' comma-separated numbers, got ' + zParam);
  if (decoder.conditional) {
    $('label-row').hidden = false;
    for (let c = 0; c < decoder.numClasses; c++) $('label').add(new Option(String(c), String(c)));
    demo.label = Number(params.get('label') ?? 0);
    $('label').value = String(demo.label);
    $('label').onchange = () => { demo.label = Number($('label').value); render(); };
  }

  const sliders = [];
  for (let i = 0; i < size; i++) {
    const slider = Object.assign(document.createElement('input'), { type: 'range', min: -3, max: 3, step: 0.01, value: demo.z[i] });
    const value = document.createElement('span');
    value.textContent = demo.z[i].toFixed(2);
    slider.oninput = () => { demo.z[i] = Number(slider.value); value.textContent = demo.z[i].toFixed(2); render(); };
    $('sliders').append(Object.assign(document.createElement('span'), { textContent: 'z' + i }), slider, value);
    sliders.push([slider, value]);
  }
  $('random').onclick = () => {
    demo.z = Array.from(normalSamples(size, Math.floor(Math.random() * 2 ** 32)));
    sliders.forEach(([slider, value], i) => { slider.value = demo.z[i]; value.textContent = demo.z[i].toFixed(2); });
    render();
  };

  // One decode at a time; moves made meanwhile collapse into one more decode.
  let busy = null;
  let again = false;
  async function render() {
    if (busy) { again = true; return busy; }
    busy = (async () => {
      do {
        again = false;
        const images = await decoder.decode([demo.z.slice()], decoder.conditional ? { label: demo.label } : {});
        drawImages($('canvas'), images);
        demo.lastImages = { data: Array.from(images.data), shape: images.shape, valueRange: images.valueRange, z: demo.z.slice(), label: demo.label };
      } while (again);
    })();
    try { await busy; } finally { busy = null; }
  }
  demo.render = render;
  await render();
  const threads = decoder.executionProvider === 'wasm' ? ', ' + decoder.threads + ' wasm thread' + (decoder.threads === 1 ? '' : 's') : '';
  setState('ready', 'rendered with ' + decoder.executionProvider + (adapter ? ' (' + adapter + ')' : '') + threads +
    '; crossOriginIsolated: ' + crossOriginIsolated + '\\n' + model.family + ', latent size ' + size + ', ' + model.valueRange + ' value range' +
    (demo.notes.some((n) => n.startsWith('warn')) ? '\\n' + demo.notes.filter((n) => n.startsWith('warn')).join('\\n') : ''));
} catch (error) {
  console.error(error);
  setState('error', String(error && error.message ? error.message : error));
}
</script>
</body>
</html>
`;
}
