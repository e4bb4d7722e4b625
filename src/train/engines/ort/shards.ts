/**
 * Batch shards: engine 'ort' splitting each batch between its own session and sessions on worker
 * threads (src/artifact/worker-session.ts) that compute at the same time, each on threads of its
 * own. The shards' gradients and loss terms are combined as row-weighted means, which equals the
 * whole batch's step when the loss is a batch mean of per-image values (the step builder's
 * `separable`) and no layer mixes images (BatchNorm's batch statistics do): the engine uses shards
 * only then.
 *
 * Why: onnxruntime's intra-op threads split each operator, and a small convolutional model's
 * operators are too small to split well. On the 2-core development machine the quickstart conv VAE
 * step (batch 64) ran at 2,275 samples/s on 1 thread, 1,742 on 2 intra-op threads, and 3,968 as
 * two shards of 32 on 1 thread each (session time only, tmp measurement of 2026-12-03; trainer
 * figures in docs/benchmarks.md). The MLP VAE went the other way (26,914 on 2 intra-op threads,
 * 24,961 as shards): its two large matrix products split well. So 'auto' shards convolutional
 * models only.
 *
 * Shard count: two in 'auto' (the one split measured; a fixed count also keeps a run's numbers the
 * same on machines with more cores), each with half the threads.
 */
import * as os from 'node:os';
import { AekitError } from '../../../core/errors';
import type { OrtParallel } from '../../../run/config';
import type { OrtSessionRuntime } from '../../../artifact/runtime';
import type { CompiledPhase } from './compile';

/** Shards 'auto' and 'batch' split a batch into. */
export const BATCH_SHARDS = 2;

/** How the engine runs a step: one session with `threads`, or `shards` sessions with `threadsPerShard` each. */
export interface ShardPlan {
  shards: number;
  /** onnxruntime intra-op threads of each shard's session (undefined: onnxruntime's default, with one shard). */
  threadsPerShard?: number;
  /** For the start line and the log: what was chosen and why. */
  why: string;
}

/** Why `compiled` cannot be sharded, or undefined when it can. */
export function whyNotSeparable(compiled: readonly CompiledPhase[], runtime: OrtSessionRuntime): string | undefined {
  if (runtime !== 'ort-node-cpu') return `runtime '${runtime}' keeps Adam in the graph`;
  const phase = compiled.find((p) => !p.separable);
  if (phase) return `the loss of phase '${phase.phase}' is not a batch mean of per-image values`;
  const statistics = compiled.flatMap((p) => p.others).find((io) => io.output);
  if (statistics) return `layer variable '${statistics.variable.name}' is updated from batch statistics (BatchNorm)`;
  return undefined;
}

/** True when a phase's graph has a convolution. */
function convolutional(compiled: readonly CompiledPhase[]): boolean {
  return compiled.some((p) => (p.model.graph?.node ?? []).some((node) => node.opType === 'Conv' || node.opType === 'ConvTranspose'));
}

/**
 * Decide how to spread `threads` (undefined: the machine's cores) over the step.
 *
 * @throws AekitError BAD_CONFIG for `parallel: 'batch'` on a model that cannot be sharded, or with fewer than 2 threads
 */
export function planShards(parallel: OrtParallel, threads: number | undefined, batchSize: number, compiled: readonly CompiledPhase[], runtime: OrtSessionRuntime): ShardPlan {
  const cores = threads ?? os.availableParallelism();
  if (parallel === 'intra-op') return { shards: 1, threadsPerShard: threads, why: 'intra-op threads (train.ortParallel)' };
  const blocked = whyNotSeparable(compiled, runtime) ?? (cores < BATCH_SHARDS ? `${cores} thread` : batchSize < BATCH_SHARDS ? `batches of ${batchSize}` : undefined);
  if (parallel === 'batch') {
    if (blocked) throw new AekitError('BAD_CONFIG', `train.ortParallel 'batch' cannot shard this run: ${blocked}; use 'intra-op' or 'auto'`, { where: 'train.ortParallel' });
  } else if (blocked || !convolutional(compiled)) {
    return { shards: 1, threadsPerShard: threads, why: `intra-op threads (auto: ${blocked ?? 'no convolutions'})` };
  }
  const threadsPerShard = Math.max(1, Math.floor(cores / BATCH_SHARDS));
  return { shards: BATCH_SHARDS, threadsPerShard, why: `${BATCH_SHARDS} batch shards x ${threadsPerShard} thread${threadsPerShard === 1 ? '' : 's'}` };
}

/** Rows of each shard of a batch of `size` (the first shards take the remainder); fewer shards when the batch is smaller. */
export function shardRows(size: number, shards: number): number[] {
  const count = Math.min(shards, size);
  const base = Math.floor(size / count);
  return Array.from({ length: count }, (_, i) => base + (i < size % count ? 1 : 0));
}

/** The rows [start, start + rows) of a [batch, ...] array whose rows hold `rowElements` values each. */
export function rowsOf(data: Float32Array, start: number, rows: number, rowElements: number): Float32Array {
  return data.subarray(start * rowElements, (start + rows) * rowElements);
}

/**
 * Combine the shards' gradients of one tensor into `into` (which holds the first shard's):
 * into = sum_k weights[k] * grads[k], with `into` as grads[0]. Returns the sum of squares of the
 * result, for the global gradient norm.
 */
export function combineInto(into: Float32Array, others: readonly Float32Array[], weights: readonly number[]): number {
  let squares = 0;
  for (let i = 0; i < into.length; i++) {
    let v = weights[0] * into[i];
    for (let k = 0; k < others.length; k++) v += weights[k + 1] * others[k][i];
    into[i] = v;
    squares += v * v;
  }
  return squares;
}
