/**
 * Turns trainer events into output: a progress bar with ETA and the current losses on a TTY,
 * plain log lines otherwise (CI logs, pipes).
 */
import { SingleBar } from 'cli-progress';
import type { TrainEvent } from '../train/trainer';

/** Compact number for progress output. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return value.toExponential(2);
  return a >= 100 ? value.toFixed(1) : a >= 1 ? value.toFixed(3) : value.toFixed(4);
}

function termsLine(terms: Record<string, number>): string {
  return Object.entries(terms)
    .filter(([k]) => !k.endsWith('gradNorm'))
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join('  ');
}

/** A renderer for training events writing to `stream` (stderr by default). */
export function trainProgress(stream: NodeJS.WriteStream = process.stderr): (event: TrainEvent) => void {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  let bar: SingleBar | undefined;
  let lastLine = 0;
  return (event) => {
    switch (event.type) {
      case 'start': {
        const skipped = event.backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
        // 'auto' says what it picked: "engine: auto -> ort (ort-node-cpu, ...)".
        const engine = `${event.engineChoice === 'auto' ? 'auto -> ' : ''}${event.engine}${event.engineDetail ? ` (${event.engineDetail})` : ''}`;
        stream.write(`backend: ${event.backend.name}${skipped ? ` (skipped ${skipped})` : ''}; engine: ${engine}\n`);
        stream.write(
          `${event.family}: ${event.parameters.toLocaleString('en-US')} parameters; ${event.trainCount} training / ${event.validationCount} validation images; ` +
            `batches of ${event.batchSize}, ${event.stepsPerEpoch} step${event.stepsPerEpoch === 1 ? '' : 's'} per epoch; epochs ${event.startEpoch + 1}-${event.epochs}` +
            (event.resumedFrom ? `; resumed from ${event.resumedFrom}` : '') +
            `\nrun folder: ${event.runDir}\n`,
        );
        break;
      }
      case 'step': {
        if (tty) {
          if (!bar) {
            bar = new SingleBar({ format: `epoch ${event.epoch + 1}/${event.epochs} [{bar}] {value}/{total} eta {eta_formatted} {speed} img/s  {terms}`, hideCursor: true, stream, barsize: 24 });
            bar.start(event.stepsPerEpoch, event.stepInEpoch - 1, { terms: '', speed: '-' });
          }
          bar.update(event.stepInEpoch, { terms: termsLine(event.terms), speed: Math.round(event.samplesPerSecond) });
        } else if (Date.now() - lastLine > 10_000 || event.stepInEpoch === 1) {
          lastLine = Date.now();
          stream.write(`epoch ${event.epoch + 1}/${event.epochs} step ${event.stepInEpoch}/${event.stepsPerEpoch}  ${termsLine(event.terms)}  ${Math.round(event.samplesPerSecond)} img/s\n`);
        }
        break;
      }
      case 'epoch': {
        bar?.stop();
        bar = undefined;
        const r = event.record;
        const val = Object.keys(r.validation).length ? `  | validation: ${termsLine(r.validation)}` : '';
        stream.write(`epoch ${r.epoch}/${event.epochs} done in ${r.seconds.toFixed(1)} s (${Math.round(r.samplesPerSecond)} img/s)  train: ${termsLine(r.train)}${val}\n`);
        break;
      }
      case 'checkpoint':
        bar?.stop();
        bar = undefined;
        stream.write(`checkpoint (${event.reason}): ${event.dir}\n`);
        break;
    }
  };
}

/**
 * A renderer for evaluation progress (`evaluate`'s onProgress): a bar per stage on a TTY, a line
 * every 10 s otherwise. Stage summaries with timings come through the logger.
 */
export function evalProgress(stream: NodeJS.WriteStream = process.stderr): (event: { stage: string; done: number; total: number }) => void {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  let bar: SingleBar | undefined;
  let stage = '';
  let lastLine = 0;
  return (event) => {
    if (event.stage !== stage) {
      bar?.stop();
      bar = undefined;
      stage = event.stage;
      lastLine = 0;
    }
    if (tty) {
      if (!bar) {
        bar = new SingleBar({ format: `${event.stage} [{bar}] {value}/{total} eta {eta_formatted}`, hideCursor: true, stream, barsize: 24, clearOnComplete: true });
        bar.start(event.total, event.done);
      }
      bar.update(event.done);
      if (event.done >= event.total) {
        bar.stop();
        bar = undefined;
      }
    } else if (Date.now() - lastLine > 10_000 && event.done < event.total) {
      lastLine = Date.now();
      stream.write(`${event.stage}: ${event.done}/${event.total}\n`);
    }
  };
}
