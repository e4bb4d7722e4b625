/**
 * Animated GIFs from image frames (interpolations, training progress), with gifenc: each frame
 * gets its own 256-colour palette (exact for grayscale images, quantised for colour ones).
 */
import { GIFEncoder, applyPalette, quantize } from 'gifenc';
import { AekitError } from '../../core/errors';

/** An RGBA frame, 8 bits per channel. */
export interface RgbaFrame {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Options of {@link framesToGif}. */
export interface GifOptions {
  /** Time each frame stays, in milliseconds (default 120). */
  delayMs?: number;
  /** Play forwards then backwards, so a loop has no jump from the last frame to the first. */
  pingPong?: boolean;
}

/** Default frame time: about 8 frames a second, slow enough to follow a morph. */
export const GIF_FRAME_DELAY_MS = 120;

/** Encode frames of one size as a looping GIF. */
export function framesToGif(frames: readonly RgbaFrame[], options: GifOptions = {}): Uint8Array {
  if (frames.length === 0) throw new AekitError('BAD_ARGUMENT', 'a GIF needs at least one frame');
  const { width, height } = frames[0];
  const bad = frames.findIndex((f) => f.width !== width || f.height !== height || f.rgba.length !== width * height * 4);
  if (bad >= 0) throw new AekitError('BAD_ARGUMENT', `frame ${bad} is ${frames[bad].width}x${frames[bad].height}, frame 0 is ${width}x${height}`);
  const sequence = options.pingPong && frames.length > 2 ? [...frames, ...frames.slice(1, -1).reverse()] : frames;
  const gif = GIFEncoder();
  for (const frame of sequence) {
    const palette = quantize(frame.rgba, 256);
    gif.writeFrame(applyPalette(frame.rgba, palette), width, height, { palette, delay: options.delayMs ?? GIF_FRAME_DELAY_MS, repeat: 0 });
  }
  gif.finish();
  return gif.bytes();
}
