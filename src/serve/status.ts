/**
 * What `/healthz` and `/metrics` report, from plain counters: the HTTP front end's (requests by
 * route and status, requests in flight) and the batchers' (runs, rows, merges per artifact).
 */
import { AEKIT_VERSION } from '../core/version';
import { addBatchStats, emptyBatchStats } from './batcher';
import type { BatchStats } from './batcher';
import type { ExecutionProviderReport } from './node-session';
import type { ArtifactStats } from './operations';

/** What `/healthz` answers. */
export interface HealthReport {
  status: 'ok' | 'draining';
  version: string;
  uptimeSeconds: number;
  executionProvider: ExecutionProviderReport;
  models: string[];
  /** Batching limits and counters summed over every artifact. */
  batching: BatchStats & { maxBatch: number; maxDelayMs: number };
  /** Counters per `<model>/<encoder|decoder>`. */
  batchingByArtifact: Record<string, BatchStats>;
  inFlight: number;
}

/** The facts a health report is made of. */
export interface HealthInput {
  draining: boolean;
  /** `Date.now()` at start. */
  startedAt: number;
  executionProvider: ExecutionProviderReport;
  models: readonly string[];
  limits: { maxBatch: number; maxDelayMs: number };
  artifacts: readonly ArtifactStats[];
  inFlight: number;
}

/** The `/healthz` report. */
export function healthReport(input: HealthInput): HealthReport {
  const byArtifact: Record<string, BatchStats> = {};
  let total = emptyBatchStats();
  for (const { model, part, stats } of input.artifacts) {
    byArtifact[`${model}/${part}`] = { ...stats };
    total = addBatchStats(total, stats);
  }
  return {
    status: input.draining ? 'draining' : 'ok',
    version: AEKIT_VERSION,
    uptimeSeconds: (Date.now() - input.startedAt) / 1000,
    executionProvider: input.executionProvider,
    models: [...input.models],
    batching: { maxBatch: input.limits.maxBatch, maxDelayMs: input.limits.maxDelayMs, ...total },
    batchingByArtifact: byArtifact,
    inFlight: input.inFlight,
  };
}

/** The batch counters `/metrics` exports: field, metric name, help text. */
const BATCH_COUNTERS: readonly [keyof BatchStats, string, string][] = [
  ['runs', 'aekit_batch_runs_total', 'onnxruntime runs.'],
  ['requests', 'aekit_batch_requests_total', 'Requests served by those runs.'],
  ['rows', 'aekit_batch_rows_total', 'Rows computed.'],
  ['mergedRuns', 'aekit_batch_merged_runs_total', 'Runs that merged more than one request.'],
  ['mergedRequests', 'aekit_batch_merged_requests_total', 'Requests that shared a run.'],
];

/**
 * The `/metrics` text (Prometheus exposition format 0.0.4).
 * @param requests - Answered requests by `<route>|<status>`.
 */
export function metricsText(requests: ReadonlyMap<string, number>, artifacts: readonly ArtifactStats[], inFlight: number): string {
  const lines = ['# HELP aekit_requests_total HTTP requests answered, by route and status.', '# TYPE aekit_requests_total counter'];
  for (const [key, count] of [...requests].sort()) {
    const [route, status] = key.split('|');
    lines.push(`aekit_requests_total{route="${route}",status="${status}"} ${count}`);
  }
  for (const [field, name, help] of BATCH_COUNTERS) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const { model, part, stats } of artifacts) lines.push(`${name}{model="${model}",part="${part}"} ${stats[field]}`);
  }
  lines.push('# HELP aekit_in_flight_requests Requests being handled.', '# TYPE aekit_in_flight_requests gauge', `aekit_in_flight_requests ${inFlight}`);
  return lines.join('\n') + '\n';
}
