/**
 * The sessions of engine 'ort' (./engine.ts): each phase compiled for a batch size and opened on
 * this thread, and with batch shards (./shards.ts) the further shards' sessions on worker threads
 * (src/artifact/worker-session.ts); and how a step's per-step inputs split between them.
 */
import { openOrtSession } from '../../../artifact/runtime';
import type { HostTensor, OrtSessionHandle, OrtSessionRuntime } from '../../../artifact/runtime';
import { openWorkerSession } from '../../../artifact/worker-session';
import type { WorkerSession } from '../../../artifact/worker-session';
import type { Logger } from '../../../core/log';
import type { FamilyModel } from '../../../models';
import { compilePhases } from './compile';
import type { CompiledPhase, CompileSettings, HostAdamIo } from './compile';
import { modelBytes } from './graph';
import { keptShape } from './layouts';
import { shardRows } from './shards';
import type { ShardPlan } from './shards';
import { elements, scalar } from './state';

/**
 * Idle onnxruntime threads block instead of spin-waiting between operators. A training step is
 * hundreds of small operators; spinning threads hold their cores between them. On the 2-core
 * development machine shared with other work (load 5-10), spinning made the median MLP VAE step
 * 2-7x slower (e.g. 37.5 vs 6.3 ms); only on an idle machine can spinning win (best steps 3.9 vs
 * 5.9 ms). See docs/benchmarks.md, "Training".
 */
const ORT_TRAINING_SPINNING = false;

/** A batch shard's step on a worker thread (./shards.ts): its compiled phase, session and output buffers. */
export interface ShardStep {
  compiled: CompiledPhase;
  session: WorkerSession;
  /** Gradients, loss terms and gradient norm, written by each run. */
  outputs: Record<string, HostTensor>;
}

/**
 * One phase's step compiled for one batch size, and its session. With batch shards, the session
 * runs the batch's first `rows[0]` rows and each of `shards` the next `rows[k]`, at the same time.
 */
export interface CompiledStep {
  compiled: CompiledPhase;
  session: OrtSessionHandle;
  rows: number[];
  shards: ShardStep[];
}

/** How the engine compiles and opens a step for another batch size. */
export interface StepFactory {
  model: FamilyModel;
  settings: CompileSettings;
  runtime: OrtSessionRuntime;
  plan: ShardPlan;
  logger: Logger;
}

export async function releaseStep(step: CompiledStep): Promise<void> {
  await Promise.all([step.session.release(), ...step.shards.map((shard) => shard.session.release())]);
}

/**
 * Compile each phase for batches of `size` and open its sessions: this thread's, and with batch
 * shards one worker session per further shard (all or none: a failure releases those already open).
 * `compiled`: the phases already compiled for `size`, when they are.
 */
export async function openSteps(size: number, factory: StepFactory, compiled?: CompiledPhase[]): Promise<CompiledStep[]> {
  const rows = shardRows(size, factory.plan.shards);
  const byRows = new Map<number, CompiledPhase[]>(compiled ? [[size, compiled]] : []);
  const compileFor = (n: number): CompiledPhase[] => {
    let phases = byRows.get(n);
    if (!phases) byRows.set(n, (phases = compilePhases(factory.model, { ...factory.settings, batchSize: n })));
    return phases;
  };
  const options = { threads: factory.plan.threadsPerShard, spinning: ORT_TRAINING_SPINNING };
  const steps: CompiledStep[] = [];
  try {
    for (const [p, phase] of compileFor(rows[0]).entries()) {
      const step: CompiledStep = { compiled: phase, session: await openOrtSession(factory.runtime, modelBytes(phase.model), options), rows, shards: [] };
      steps.push(step);
      for (const n of rows.slice(1)) {
        const shard = compileFor(n)[p];
        step.shards.push({ compiled: shard, session: await openWorkerSession(factory.runtime, modelBytes(shard.model), options), outputs: shardOutputs(shard) });
      }
      const shards = step.shards.length > 0 ? ` in ${rows.length} shards of ${rows.join(' + ')} rows` : '';
      factory.logger.debug(`engine ort: phase '${phase.phase}' for batches of ${size}${shards}: ${phase.model.graph?.node?.length ?? 0} nodes, ${phase.trained.length} trained tensors`);
    }
  } catch (error) {
    await Promise.all(steps.map(releaseStep));
    throw error;
  }
  return steps;
}

/** Buffers a shard's runs write: its gradients (host Adam), loss terms and gradient norm. */
function shardOutputs(shard: CompiledPhase): Record<string, HostTensor> {
  const outputs: Record<string, HostTensor> = {};
  for (const name of [...shard.terms.map((term) => term.output), shard.gradNorm]) outputs[name] = scalar(Number.NaN);
  const grads = (shard.optimizer as HostAdamIo).grads;
  shard.trained.forEach((io, i) => {
    const dims = keptShape(io.variable, io.perm);
    outputs[grads[i]] = { dtype: 'float32', data: new Float32Array(elements(dims)), dims };
  });
  return outputs;
}
