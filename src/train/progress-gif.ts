/**
 * The training GIF of a run: its per-epoch sample grids (samples/epoch-NNNN.png, written by the
 * trainer with the same originals and the same prior codes every epoch) as the frames of
 * samples/progress.gif, so one file shows the reconstructions and samples improving (the
 * "samples across epochs" animations of the DCGAN and CVAE studies).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import { decodePng } from '../core/image-io';
import { framesToGif } from '../eval/latent/gif';

/** File name of the training GIF inside a run's samples/ folder. */
export const PROGRESS_GIF = 'progress.gif';

/** Frame time: one frame per epoch, slow enough to compare two epochs by eye. */
export const PROGRESS_GIF_DELAY_MS = 500;

/** The per-epoch grids the trainer writes (see `epochLabel` in epoch-report.ts). */
const EPOCH_GRID = /^epoch-\d+\.png$/;

/**
 * (Re)write samples/progress.gif from every epoch grid in `samplesDir`, in epoch order.
 * Returns the GIF's path, or undefined when there is no grid yet (e.g. a classifier run).
 */
export async function writeProgressGif(samplesDir: string, delayMs = PROGRESS_GIF_DELAY_MS): Promise<string | undefined> {
  const grids = (await fs.readdir(samplesDir)).filter((name) => EPOCH_GRID.test(name)).sort();
  if (grids.length === 0) return undefined;
  const frames = await Promise.all(grids.map(async (name) => decodePng(await fs.readFile(path.join(samplesDir, name)))));
  const file = path.join(samplesDir, PROGRESS_GIF);
  await writeFileAtomic(file, framesToGif(frames, { delayMs }), { force: true });
  return file;
}
