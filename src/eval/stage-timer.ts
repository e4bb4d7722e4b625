/** The stages of one `evaluate` call: how long each took (the report's `timings`) and how far a long one has got. */
import type { Logger } from '../core/log';
import type { RowProgress } from './onnx-session';
import type { EvalProgress } from './options';

/** Times the stages of an evaluation in order and forwards row progress to the caller. */
export class StageTimer {
  /** Seconds per finished stage, in the order they ran. */
  readonly timings: { stage: string; seconds: number }[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly onProgress?: (event: EvalProgress) => void,
  ) {}

  /** Run `work` as the stage `stage`: its time is recorded and logged. */
  async timed<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    this.timings.push({ stage, seconds });
    this.logger.info(`${stage}: ${seconds.toFixed(1)} s`);
    return result;
  }

  /** The progress callback of stage `stage`, for onnxruntime runs and other row-by-row work. */
  progress(stage: string): RowProgress {
    return (done, total) => this.onProgress?.({ stage, done, total });
  }
}
