/**
 * The drawing pad: draw with a mouse, finger or pen (pointer events), or drop / open any image,
 * which is drawn onto the pad so it can be drawn over. The pad's pixels become the model input
 * through `toModelInput` (MNIST framing for grey models when "center" is on).
 */
import type { ImageShape } from '../../../artifact/metadata';
import type { ValueRange } from '../../../data/types';
import { canvasToModelInput } from '../draw';
import { toModelInput } from '../resample';
import type { ImageBatch } from '../tensors';
import { h } from './ui';

/** Pen width over the pad's width: about MNIST's stroke (2-3 px of 28) for a digit drawn across most of the pad. */
const PEN_FRACTION = 0.075;
/** The pad is at least this many pixels across (a whole multiple of the image size, so 'stretch' averages whole blocks). */
const PAD_MIN_PIXELS = 256;

/** Pixels of the pad for an image shape. */
export function padSize(shape: ImageShape): { width: number; height: number } {
  const scale = Math.ceil(PAD_MIN_PIXELS / Math.max(shape.width, shape.height));
  return { width: shape.width * scale, height: shape.height * scale };
}

/** A pad wired into the page. */
export interface Pad {
  /** The model input the pad holds now, or undefined while it is blank. */
  read(): { batch: ImageBatch; inverted: boolean } | undefined;
  clear(): void;
}

/** Wire the pad canvas and its tools; `changed` runs whenever the picture changes. */
export function wirePad(canvas: HTMLCanvasElement, tools: HTMLElement, note: HTMLElement, shape: ImageShape, valueRange: ValueRange, changed: () => void): Pad {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const grey = shape.channels === 1;
  let blank = true;
  const fill = (color: string) => {
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  fill('#000');

  const clearButton = h('button', { type: 'button', id: 'clear', text: 'clear' });
  const pen = h('input', { type: 'range', id: 'pen', min: 0.3, max: 2.5, step: 0.1, value: 1, 'aria-label': 'pen width' });
  const color = h('input', { type: 'color', id: 'pen-color', value: '#ffffff', 'aria-label': 'pen colour' });
  const file = h('input', { type: 'file', id: 'file', accept: 'image/*' });
  const center = h('input', { type: 'checkbox', id: 'center', checked: grey });
  const invert = h('input', { type: 'checkbox', id: 'invert' });
  tools.append(
    clearButton,
    h('label', {}, 'pen ', pen),
    ...(grey ? [] : [h('label', {}, 'colour ', color)]),
    h('label', { class: 'file' }, file, 'open image…'),
    ...(grey ? [h('label', { title: "scale the drawing into MNIST's 20×20 box and centre it by its centre of mass" }, center, ' center like MNIST')] : []),
    h('label', { title: 'light ink on a dark background is what MNIST-style models saw' }, invert, ' invert'),
  );
  note.textContent = grey ? 'Draw a light stroke on the dark pad, or drop a picture (a dark digit on paper is inverted automatically).' : 'Draw on the pad, or drop a picture; it is resized to the model’s input.';

  let last: { x: number; y: number } | undefined;
  const point = (e: PointerEvent) => {
    const rect = canvas.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) / rect.width) * canvas.width, y: ((e.clientY - rect.top) / rect.height) * canvas.height };
  };
  const stroke = (to: { x: number; y: number }) => {
    ctx.strokeStyle = ctx.fillStyle = grey ? '#fff' : color.value;
    ctx.lineWidth = canvas.width * PEN_FRACTION * Number(pen.value);
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo((last ?? to).x, (last ?? to).y);
    // A click without a move still leaves a dot.
    ctx.lineTo(to.x + (last ? 0 : 0.01), to.y);
    ctx.stroke();
    last = to;
    blank = false;
  };
  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    canvas.setPointerCapture(e.pointerId);
    last = undefined;
    stroke(point(e));
    changed();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (last === undefined) return;
    for (const event of e.getCoalescedEvents?.() ?? [e]) stroke(point(event));
    changed();
  });
  const end = () => {
    if (last === undefined) return;
    last = undefined;
    changed();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  const showPicture = async (blob: Blob) => {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(blob);
    } catch {
      note.textContent = `Could not read that file as an image (${blob.type || 'unknown type'}).`;
      return;
    }
    // Fill around the picture with its own corner colour, so letterboxing adds no edges.
    const probe = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
    probe.drawImage(bitmap, 0, 0);
    const corner = probe.getImageData(0, 0, 1, 1).data;
    fill(`rgb(${corner[0]}, ${corner[1]}, ${corner[2]})`);
    const scale = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
    const [w, h2] = [bitmap.width * scale, bitmap.height * scale];
    ctx.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h2) / 2, w, h2);
    bitmap.close();
    blank = false;
    invert.checked = toModelInput(ctx.getImageData(0, 0, canvas.width, canvas.height), shape, valueRange, { invert: 'auto' }).inverted;
    note.textContent = invert.checked ? 'The picture has a light background, so it was inverted (light ink on dark, as MNIST). Untick "invert" to undo.' : 'Picture loaded; draw over it, or clear.';
    changed();
  };
  file.addEventListener('change', () => {
    if (file.files?.[0]) void showPicture(file.files[0]);
    file.value = '';
  });
  canvas.addEventListener('dragover', (e) => {
    e.preventDefault();
    canvas.classList.add('drop');
  });
  canvas.addEventListener('dragleave', () => canvas.classList.remove('drop'));
  canvas.addEventListener('drop', (e) => {
    e.preventDefault();
    canvas.classList.remove('drop');
    const dropped = e.dataTransfer?.files[0];
    if (dropped) void showPicture(dropped);
  });

  const clear = () => {
    fill('#000');
    blank = true;
    invert.checked = false;
    changed();
  };
  clearButton.addEventListener('click', clear);
  center.addEventListener('change', changed);
  invert.addEventListener('change', changed);
  return {
    read() {
      if (blank) return undefined;
      return canvasToModelInput(canvas, shape, valueRange, { fit: grey && center.checked ? 'digit' : 'stretch', invert: invert.checked });
    },
    clear,
  };
}
