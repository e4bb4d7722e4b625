/**
 * The demo's DOM: a small element helper and the page skeleton (model bar, the draw panel with the
 * input and output side by side, latent controls, the 2-D map, interpolation and samples), built
 * from what the model offers. Native controls throughout, each with a label, so the page works
 * from the keyboard and with a screen reader.
 */

type Props = Record<string, string | number | boolean | undefined>;

/** Create an element with attributes (`text` sets textContent) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children);
  return el;
}

/** What the skeleton shows. */
export interface LayoutFacts {
  models: { name: string; family: string }[];
  selected: string;
  imageShape: { channels: number; height: number; width: number };
  numClasses?: number;
  /** Set when drawing is possible (the model has an encoder whose code the decoder takes). */
  canDraw: boolean;
  whyNoDraw?: string;
  /** Pixels of the drawing pad (a whole multiple of the image size). */
  pad: { width: number; height: number };
  canSample: boolean;
  whyNoSample?: string;
  hasMap: boolean;
}

/** The elements the page's parts wire up. */
export interface Layout {
  status: HTMLElement;
  timing: HTMLElement;
  model: HTMLSelectElement;
  label: HTMLSelectElement;
  pad: HTMLCanvasElement;
  input: HTMLCanvasElement;
  output: HTMLCanvasElement;
  outputCaption: HTMLElement;
  drawTools: HTMLElement;
  drawNote: HTMLElement;
  latent: HTMLElement;
  map: HTMLCanvasElement;
  mapMarker: HTMLElement;
  strip: HTMLCanvasElement;
  stripTools: HTMLElement;
  samples: HTMLCanvasElement;
  samplesTools: HTMLElement;
  samplesNote: HTMLElement;
}

const pixelCanvas = (id: string, label: string, shape: LayoutFacts['imageShape']): HTMLCanvasElement =>
  h('canvas', { id, class: 'px', width: shape.width, height: shape.height, role: 'img', 'aria-label': label });

/** Build the skeleton inside `root` (replacing its contents). */
export function buildLayout(root: HTMLElement, facts: LayoutFacts): Layout {
  const { imageShape: shape } = facts;
  const size = `${shape.width}×${shape.height}${shape.channels === 3 ? ' RGB' : ''}`;
  const model = h('select', { id: 'model', 'aria-label': 'model' });
  for (const m of facts.models) model.add(new Option(`${m.name} (${m.family})`, m.name, false, m.name === facts.selected));
  const label = h('select', { id: 'label', 'aria-label': 'class' });
  for (let c = 0; c < (facts.numClasses ?? 0); c++) label.add(new Option(String(c), String(c)));
  const status = h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite', text: 'loading...' });
  const bar = h(
    'div',
    { class: 'bar' },
    h('label', {}, 'model ', model),
    h('label', { id: 'label-row', hidden: facts.numClasses === undefined }, 'class ', label),
    status,
  );

  const pad = h('canvas', {
    id: 'pad',
    class: 'pad',
    width: facts.pad.width,
    height: facts.pad.height,
    role: 'img',
    'aria-label': 'drawing pad: draw with a mouse, finger or pen, or drop an image here (or use "open image")',
  });
  const input = pixelCanvas('input', `model input, ${size}`, shape);
  const output = pixelCanvas('canvas', `decoded image, ${size}`, shape);
  const outputCaption = h('figcaption', { id: 'output-caption', text: 'decoded' });
  const drawTools = h('div', { class: 'tools' });
  const drawNote = h('p', { class: 'note', id: 'draw-note' });
  const outputFigure = h('figure', {}, output, outputCaption);
  const drawPanel = facts.canDraw
    ? h(
        'section',
        { class: 'panel draw', 'aria-labelledby': 'draw-h' },
        h('h2', { id: 'draw-h', text: 'Draw or drop an image' }),
        h('div', { class: 'draw-row' }, h('figure', {}, pad, h('figcaption', { text: 'draw here' })), h('figure', {}, input, h('figcaption', { text: `model input (${size})` })), outputFigure),
        drawTools,
        drawNote,
      )
    : h('section', { class: 'panel draw', 'aria-labelledby': 'draw-h' }, h('h2', { id: 'draw-h', text: 'Output' }), h('div', { class: 'solo' }, outputFigure), h('p', { class: 'note', text: `Drawing is off: ${facts.whyNoDraw}.` }));

  const latent = h('div', { id: 'latent' });
  const latentPanel = h('section', { class: 'panel', 'aria-labelledby': 'latent-h' }, h('h2', { id: 'latent-h', text: 'Latent code' }), latent);

  const map = h('canvas', { id: 'map', class: 'px', tabindex: 0, role: 'application', 'aria-label': 'latent map: decoded images over the 2-D latent plane; click a cell, or use the arrow keys' });
  const mapMarker = h('div', { class: 'marker', 'aria-hidden': 'true' });
  const mapPanel = h(
    'section',
    { class: 'panel', id: 'map-panel', 'aria-labelledby': 'map-h', hidden: !facts.hasMap },
    h('h2', { id: 'map-h', text: 'Latent map' }),
    h('div', { class: 'map-wrap' }, map, mapMarker),
    h('p', { class: 'note', text: 'The decoded plane at evenly spaced quantiles of N(0, 1). Click a cell or use the arrow keys; the frame marks the current code.' }),
  );

  const strip = h('canvas', { id: 'strip', class: 'px', role: 'img', 'aria-label': 'interpolation from A to B' });
  const stripTools = h('div', { class: 'tools' });
  const stripPanel = h(
    'section',
    { class: 'panel strip', 'aria-labelledby': 'strip-h' },
    h('h2', { id: 'strip-h', text: 'Interpolate' }),
    strip,
    stripTools,
    h('p', { class: 'note', text: 'A straight line in latent space between two codes: set A and B from what you drew, sampled or dialled in. Click a frame to load it.' }),
  );

  const samples = h('canvas', { id: 'samples', class: 'px', role: 'img', 'aria-label': 'a grid of samples' });
  const samplesTools = h('div', { class: 'tools' });
  const samplesNote = h('p', { class: 'note', id: 'samples-note', text: facts.canSample ? 'The same seed gives the same grid, here and from the server\'s /sample. Click a sample to load its code.' : `Sampling is off: ${facts.whyNoSample}.` });
  const samplesPanel = h('section', { class: 'panel samples', 'aria-labelledby': 'samples-h' }, h('h2', { id: 'samples-h', text: 'Samples' }), samples, samplesTools, samplesNote);

  const timing = h('p', { class: 'note', id: 'timing' });
  root.replaceChildren(bar, h('div', { class: 'panels' }, drawPanel, latentPanel, mapPanel, stripPanel, samplesPanel), timing);
  return { status, timing, model, label, pad, input, output, outputCaption, drawTools, drawNote, latent, map, mapMarker, strip, stripTools, samples, samplesTools, samplesNote };
}

/** Which grid cell of `canvas` (drawn by `drawImages` with `columns` and `padding`) a pointer event is on. */
export function cellAt(event: MouseEvent, canvas: HTMLCanvasElement, cell: { width: number; height: number }, columns: number, count: number, padding: number): number | undefined {
  const rect = canvas.getBoundingClientRect();
  const x = ((event.clientX - rect.left) / rect.width) * canvas.width;
  const y = ((event.clientY - rect.top) / rect.height) * canvas.height;
  const col = Math.floor(x / (cell.width + padding));
  const row = Math.floor(y / (cell.height + padding));
  const index = row * columns + col;
  return col >= 0 && col < columns && row >= 0 && index < count ? index : undefined;
}
