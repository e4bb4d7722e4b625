/**
 * Dynamic batching: requests to the same artifact that arrive within `maxDelayMs` of each other
 * are concatenated into one onnxruntime run of at most `maxBatch` rows, and the outputs are split
 * back per request. onnxruntime-node runs a session synchronously on the event loop, so for small
 * models the per-run overhead (tensor wrapping, the native call) dominates and merging saves it.
 */
import type { Logger } from '../core/log';
import type { FloatFeed, NodeSession } from './node-session';

/** Batching limits. */
export interface BatchingOptions {
  /** Most rows in one merged run; 1 turns merging off (every request runs alone, at once). */
  maxBatch: number;
  /** Longest a request waits for others before its run starts. */
  maxDelayMs: number;
}

/** Counters of one batcher (or their sum over all); reported by /healthz and /metrics. */
export interface BatchStats {
  /** onnxruntime runs. */
  runs: number;
  /** Requests served through those runs. */
  requests: number;
  /** Rows (images or latents) computed. */
  rows: number;
  /** Runs that served more than one request. */
  mergedRuns: number;
  /** Requests that shared a run with at least one other. */
  mergedRequests: number;
  /** Rows of the largest run. */
  largestRun: number;
}

/** A zeroed {@link BatchStats}. */
export function emptyBatchStats(): BatchStats {
  return { runs: 0, requests: 0, rows: 0, mergedRuns: 0, mergedRequests: 0, largestRun: 0 };
}

/** Add `b` into `a`. */
export function addBatchStats(a: BatchStats, b: BatchStats): BatchStats {
  return {
    runs: a.runs + b.runs,
    requests: a.requests + b.requests,
    rows: a.rows + b.rows,
    mergedRuns: a.mergedRuns + b.mergedRuns,
    mergedRequests: a.mergedRequests + b.mergedRequests,
    largestRun: Math.max(a.largestRun, b.largestRun),
  };
}

/** One request's rows: per input, `rows` rows of a fixed row size, flat and row-major. */
export type RowFeeds = Record<string, Float32Array>;

interface Pending {
  feeds: RowFeeds;
  rows: number;
  resolve: (outputs: RowFeeds) => void;
  reject: (error: unknown) => void;
}

/** Merges concurrent requests to one session; see the file comment. */
export class DynamicBatcher {
  readonly stats: BatchStats = emptyBatchStats();
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly rowShapes: Record<string, number[]>;

  /**
   * @param rowShapes per input, the shape of one row (without the batch dimension)
   * @param label names the artifact in log lines
   */
  constructor(
    private readonly session: NodeSession,
    rowShapes: Record<string, number[]>,
    private readonly options: BatchingOptions,
    private readonly label: string,
    private readonly logger: Logger,
  ) {
    this.rowShapes = rowShapes;
  }

  /** Queue one request's rows; resolves with its slice of every output. */
  submit(feeds: RowFeeds, rows: number): Promise<RowFeeds> {
    return new Promise<RowFeeds>((resolve, reject) => {
      this.queue.push({ feeds, rows, resolve, reject });
      this.queuedRows += rows;
      if (this.queuedRows >= this.options.maxBatch) this.flush();
      else if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), this.options.maxDelayMs);
    });
  }

  /** Start runs for everything queued now (used on shutdown, so nobody waits for a timer). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0) {
      // Take whole requests up to maxBatch rows; a request larger than maxBatch runs alone.
      let rows = this.queue[0].rows;
      let take = 1;
      while (take < this.queue.length && rows + this.queue[take].rows <= this.options.maxBatch) rows += this.queue[take++].rows;
      const group = this.queue.splice(0, take);
      this.queuedRows -= rows;
      void this.run(group, rows);
    }
  }

  private async run(group: Pending[], rows: number): Promise<void> {
    const s = this.stats;
    s.runs++;
    s.requests += group.length;
    s.rows += rows;
    if (rows > s.largestRun) s.largestRun = rows;
    if (group.length > 1) {
      s.mergedRuns++;
      s.mergedRequests += group.length;
      this.logger.debug(`batch ${this.label}: merged ${group.length} requests (${rows} rows) into one run`);
    }
    try {
      const feeds: Record<string, FloatFeed> = {};
      for (const [name, shape] of Object.entries(this.rowShapes)) {
        feeds[name] = { data: group.length === 1 ? group[0].feeds[name] : concat(group.map((p) => p.feeds[name])), dims: [rows, ...shape] };
      }
      const outputs = await this.session.run(feeds);
      let offset = 0;
      for (const pending of group) {
        const slice: RowFeeds = {};
        for (const [name, out] of Object.entries(outputs)) {
          const rowSize = out.data.length / rows;
          slice[name] = out.data.subarray(offset * rowSize, (offset + pending.rows) * rowSize);
        }
        offset += pending.rows;
        pending.resolve(slice);
      }
    } catch (error) {
      for (const pending of group) pending.reject(error);
    }
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
