/**
 * The demo page's work queue. Every model run goes through one queue (an onnxruntime-web session
 * runs one call at a time), and each view keeps at most one pending job: a slider dragged
 * through fifty values decodes the value it was at when the last decode ended, not all fifty.
 */

/** Runs jobs one at a time, in order; {@link Scheduler.idle} resolves once nothing is queued or running. */
export class Scheduler {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private readonly latest = new Map<string, () => Promise<void>>();
  private readonly waiting = new Set<string>();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Queue `job` after everything queued so far. */
  run<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const next = this.tail.then(job);
    this.tail = next.then(
      () => this.pending--,
      () => this.pending--,
    );
    return next;
  }

  /**
   * Queue the job of view `key`; if one of the same key is still waiting its turn, it is replaced
   * instead (only the latest state of a view is worth computing). Errors go to `onError`.
   */
  coalesce(key: string, job: () => Promise<void>): void {
    this.latest.set(key, job);
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    void this.run(async () => {
      this.waiting.delete(key);
      const latest = this.latest.get(key)!;
      this.latest.delete(key);
      await latest();
    }).catch(this.onError);
  }

  /** Resolves when the queue is empty (jobs queued meanwhile are waited for too). */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }
}
