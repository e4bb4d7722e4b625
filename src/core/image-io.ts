/**
 * Image output: grids of images as PNG (pngjs). Images come in NHWC float32 in [0, 1]; callers
 * convert from [-1, 1] first (see `fromRange` in src/data).
 */
import { PNG } from 'pngjs';

/** Layout of an image grid. */
export interface GridOptions {
  /** Images per row (default: ceil(sqrt(count))). */
  columns?: number;
  /** Gap between images, in output pixels (default 2). */
  padding?: number;
  /** Integer upscaling factor (default 2, so 28x28 digits stay readable). */
  scale?: number;
  /** Gap colour, 0-255 grey (default 255, white). */
  background?: number;
}

/** Encode a batch of NHWC images (values in [0,1], 1 or 3 channels) as one PNG grid. */
export function imageGridPng(
  images: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: number,
  options: GridOptions = {},
): Buffer {
  const columns = Math.max(1, options.columns ?? Math.ceil(Math.sqrt(count)));
  const rows = Math.max(1, Math.ceil(count / columns));
  const padding = options.padding ?? 2;
  const scale = Math.max(1, Math.round(options.scale ?? 2));
  const cellW = width * scale;
  const cellH = height * scale;
  const png = new PNG({ width: columns * cellW + (columns + 1) * padding, height: rows * cellH + (rows + 1) * padding });
  png.data.fill(options.background ?? 255);
  const toByte = (v: number) => Math.max(0, Math.min(255, Math.round(v * 255)));
  for (let n = 0; n < count; n++) {
    const x0 = padding + (n % columns) * (cellW + padding);
    const y0 = padding + Math.floor(n / columns) * (cellH + padding);
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const src = ((n * height + Math.floor(y / scale)) * width + Math.floor(x / scale)) * channels;
        const dst = ((y0 + y) * png.width + x0 + x) * 4;
        const r = toByte(images[src]);
        png.data[dst] = r;
        png.data[dst + 1] = channels === 3 ? toByte(images[src + 1]) : r;
        png.data[dst + 2] = channels === 3 ? toByte(images[src + 2]) : r;
        png.data[dst + 3] = 255;
      }
    }
  }
  return PNG.sync.write(png);
}

/** Decode a PNG into RGBA bytes (tests, fixture checks). */
export function decodePng(bytes: Buffer): { width: number; height: number; rgba: Uint8Array } {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
}
