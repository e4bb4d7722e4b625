/**
 * The onnxruntime engine: runs each phase's compiled training step (./compile.ts) on
 * onnxruntime-node's CPU provider (or another runtime of src/artifact/runtime.ts, the one file that
 * loads onnxruntime: onnxruntime-web's wasm, onnxruntime-node's CUDA or WebGPU provider).
 *
 * Where Adam runs depends on the runtime. On onnxruntime-node's CPU provider the graph outputs the
 * gradients and ./host-adam.ts updates parameters and moments in place, in one WebAssembly arena
 * that onnxruntime also reads the parameters from and writes the gradients into (no copies of
 * ours; the update is applied only once the loss and gradient norm are known to be finite). On the
 * other runtimes Adam is part of the graph (./adam.ts), so that a GPU keeps the whole step.
 *
 * The step is compiled for a fixed batch size (all shapes are static, ./graph.ts). The trainer keeps
 * an epoch's last, smaller batch, so a graph for that size is compiled the first time one comes
 * and cached (at most two per run); the state (./state.ts: weights, BatchNorm statistics, Adam
 * moments) is shared by every compiled size. A second shape rather than padding the batch and
 * masking the padded rows: the loss then is exactly the mean over the real rows, and BatchNorm's
 * batch statistics never see padded rows, so both engines compute the same step.
 *
 * A step whose loss or gradient norm is not finite is not applied (./state.ts), so the model still
 * holds the last good values. onnxruntime-node 1.30 has no CPU IO binding, so state cannot stay in
 * onnxruntime's own memory between runs (see docs/benchmarks.md, "Training").
 */
import { AekitError } from '../../../core/errors';
import { Rng } from '../../../core/rng';
import { tf } from '../../../core/tfjs-backend';
import type { HostTensor } from '../../../artifact/runtime';
import type { FamilyModel, StepContext } from '../../../models';
import type { AdamSettings, AdamState } from '../../optim';
import { oneHotRows } from '../../data';
import type { EngineSetup, HostBatch, StepOutcome, TrainingEngine } from '../types';
import { compilePhases } from './compile';
import type { CompiledPhase, CompileSettings, HostAdamIo, VariableIo } from './compile';
import { HostAdam } from './host-adam';
import { Layouts } from './layouts';
import { combineInto, planShards, rowsOf } from './shards';
import { ArenaTensor, DoubleBuffer, elements, scalar } from './state';
import type { GraphOptimizerState, HostOptimizerState, StateTensor } from './state';
import { openSteps, releaseStep } from './step-sessions';
import { BATCHED_FILLS, wholeBatch } from './steps/builder';
import type { CompiledStep, ShardStep, StepFactory } from './step-sessions';

/** A phase's optimizer state, shared by its steps of every batch size. */
interface PhaseRunner {
  phase: string;
  /** Trained variables in checkpoint order (the same in every compiled size). */
  trained: VariableIo[];
  /** Adam updates applied so far. */
  iterations: number;
  optimizer: GraphOptimizerState | HostOptimizerState;
}

/** Trains with graphs compiled to ONNX, on onnxruntime. */
export class OrtEngine implements TrainingEngine {
  readonly name = 'ort' as const;
  /** Whether the tfjs model lags behind the engine's weights. */
  private dirty = false;

  private constructor(
    private readonly model: FamilyModel,
    private readonly runners: PhaseRunner[],
    /** Each phase's compiled step, by batch size. */
    private readonly steps: Map<number, CompiledStep[]>,
    /** Every variable any phase reads, by tfjs variable name. */
    private readonly weights: Map<string, StateTensor>,
    /** Variables kept in another layout than tfjs's (convolution kernels: ONNX's), by name. */
    private readonly layouts: Layouts,
    private readonly hostAdam: HostAdam | undefined,
    private readonly adam: AdamSettings,
    private readonly clipNorm: number | undefined,
    private readonly factory: StepFactory,
    readonly detail: string,
  ) {}

  /**
   * Compile the model's phases for `setup.batchSize` and open their sessions.
   *
   * @throws AekitError BAD_CONFIG when the model cannot be trained by this engine
   */
  static async create(setup: EngineSetup): Promise<OrtEngine> {
    const started = performance.now();
    const runtime = setup.runtime ?? 'ort-node-cpu';
    const placement = runtime === 'ort-node-cpu' ? 'host' : 'graph';
    // Kernels in ONNX's layout: no Transpose of weights or gradients in the step (./forward.ts).
    const settings: CompileSettings = { batchSize: setup.batchSize, adam: setup.adam, clipNorm: setup.clipNorm, optimizer: placement, kernelLayout: 'onnx' };
    const compiled = compilePhases(setup.model, settings);
    const plan = planShards(setup.parallel ?? 'auto', setup.threads, setup.batchSize, compiled, runtime);
    const factory: StepFactory = { model: setup.model, settings, runtime, plan, logger: setup.logger };
    const layouts = new Layouts(compiled);
    const hostAdam = placement === 'host' ? new HostAdam(setup.adam) : undefined;
    const weights = new Map<string, StateTensor>();
    const shapeOf = (v: tf.LayerVariable) => layouts.shape(v);
    const valuesOf = (v: tf.LayerVariable) => layouts.toStored(v, v.read().dataSync() as Float32Array);
    // Parameters some phase trains: in the arena (host Adam) or double-buffered (graph Adam).
    for (const phase of compiled) {
      for (const io of phase.trained) {
        if (weights.has(io.variable.name)) continue;
        const initial = valuesOf(io.variable);
        weights.set(io.variable.name, hostAdam ? new ArenaTensor(shapeOf(io.variable), hostAdam.slice(initial.length, initial)) : new DoubleBuffer(shapeOf(io.variable), initial));
      }
    }
    // Everything else read: BatchNorm statistics (updated by the graph) and other phases' frozen weights.
    for (const phase of compiled) {
      for (const io of phase.others) {
        if (!weights.has(io.variable.name)) weights.set(io.variable.name, new DoubleBuffer(shapeOf(io.variable), valuesOf(io.variable)));
      }
    }
    const runners = compiled.map((phase): PhaseRunner => {
      const shapes = phase.trained.map((t) => shapeOf(t.variable));
      let optimizer: GraphOptimizerState | HostOptimizerState;
      if (placement === 'host') {
        const arena = (shape: number[]) => new ArenaTensor(shape, hostAdam!.slice(elements(shape)));
        optimizer = { kind: 'host', moments: shapes.map((shape) => ({ m: arena(shape), v: arena(shape) })), grads: shapes.map(arena) };
      } else {
        const zeros = (shape: number[]) => new DoubleBuffer(shape, new Float32Array(elements(shape)));
        optimizer = { kind: 'graph', moments: shapes.map((shape) => ({ m: zeros(shape), v: zeros(shape) })) };
      }
      return { phase: phase.phase, trained: phase.trained, iterations: 0, optimizer };
    });
    hostAdam?.seal();
    for (const runner of runners) {
      const saved = setup.savedOptimizers[runner.phase];
      if (saved) restoreAdam(runner, saved, layouts);
    }
    const steps = new Map([[setup.batchSize, await openSteps(setup.batchSize, factory, compiled)]]);
    const threads = plan.shards > 1 ? plan.why : `threads: ${setup.threads ?? 'onnxruntime default'}`;
    const detail = `${runtime}, Adam in the ${placement === 'host' ? 'host arena' : 'graph'}, ${threads}`;
    if (plan.shards === 1) setup.logger.debug(`engine ort: ${plan.why}`);
    setup.logger.debug(`engine ort: compiled in ${Math.round(performance.now() - started)} ms (${detail})`);
    return new OrtEngine(setup.model, runners, steps, weights, layouts, hostAdam, setup.adam, setup.clipNorm, factory, detail);
  }

  async step(batch: HostBatch, ctx: StepContext, learningRate: number): Promise<StepOutcome> {
    const steps = await this.stepsFor(batch.size);
    const terms: Record<string, number> = {};
    const applied: string[] = [];
    const multi = this.runners.length > 1;
    for (const [p, runner] of this.runners.entries()) {
      const { compiled, session, rows, shards } = steps[p];
      const { optimizer } = runner;
      const prefix = multi ? `${compiled.phase}.` : '';
      const t = runner.iterations + 1;
      const feeds: Record<string, HostTensor> = {};
      // Per-step inputs drawn for the whole batch (the same numbers sharded or not), then split by rows.
      const shardFeeds: Record<string, HostTensor>[] = shards.map(() => ({}));
      compiled.stepInputs.forEach((input, i) => {
        const data = this.stepData(input.fill, wholeBatch(input.drawShape ?? input.shape, input.fill, batch.size), batch, ctx);
        if (shards.length === 0 || !BATCHED_FILLS.has(input.fill.kind)) {
          feeds[input.input] = { dtype: 'float32', data, dims: input.shape };
          shards.forEach((shard, k) => (shardFeeds[k][shard.compiled.stepInputs[i].input] = { dtype: 'float32', data, dims: shard.compiled.stepInputs[i].shape }));
          return;
        }
        const rowElements = data.length / batch.size;
        feeds[input.input] = { dtype: 'float32', data: rowsOf(data, 0, rows[0], rowElements), dims: input.shape };
        let start = rows[0];
        shards.forEach((shard, k) => {
          shardFeeds[k][shard.compiled.stepInputs[i].input] = { dtype: 'float32', data: rowsOf(data, start, rows[k + 1], rowElements), dims: shard.compiled.stepInputs[i].shape };
          start += rows[k + 1];
        });
      });
      // Scalars (loss terms, gradient norm) are written into one small array each.
      const logged = new Map<string, HostTensor>();
      for (const name of [...compiled.terms.map((term) => term.output), compiled.gradNorm]) logged.set(name, scalar(Number.NaN));
      const outputs: Record<string, HostTensor> = Object.fromEntries(logged);
      const written: DoubleBuffer[] = [];
      for (const io of compiled.trained) feeds[io.input] = this.weights.get(io.variable.name)!.current;
      if (compiled.optimizer.kind === 'graph') {
        const io = compiled.optimizer;
        const graph = optimizer as GraphOptimizerState;
        feeds[io.lrOverC1] = scalar(learningRate / (1 - this.adam.beta1 ** t));
        feeds[io.c2] = scalar(1 - this.adam.beta2 ** t);
        compiled.trained.forEach((trained, i) => {
          const weight = this.weights.get(trained.variable.name) as DoubleBuffer;
          const { m, v } = graph.moments[i];
          const slot = io.slots[i];
          feeds[slot.m.input] = m.current;
          feeds[slot.v.input] = v.current;
          outputs[slot.output] = weight.spare;
          outputs[slot.m.output] = m.spare;
          outputs[slot.v.output] = v.spare;
          written.push(weight, m, v);
        });
      } else {
        const host = optimizer as HostOptimizerState;
        compiled.optimizer.grads.forEach((name, i) => (outputs[name] = host.grads[i].current));
      }
      for (const io of compiled.others) {
        const weight = this.weights.get(io.variable.name)!;
        feeds[io.input] = weight.current;
        if (io.output) {
          outputs[io.output] = (weight as DoubleBuffer).spare;
          written.push(weight as DoubleBuffer);
        }
      }
      // Shards start first: their runs proceed on worker threads while this thread runs its own rows.
      const shardRuns = shards.map((shard, k) => {
        const shardInputs = shardFeeds[k];
        compiled.trained.forEach((io, i) => (shardInputs[shard.compiled.trained[i].input] = feeds[io.input]));
        compiled.others.forEach((io, i) => (shardInputs[shard.compiled.others[i].input] = feeds[io.input]));
        return shard.session.runInto(shardInputs, shard.outputs);
      });
      try {
        await session.runInto(feeds, outputs);
      } finally {
        await Promise.allSettled(shardRuns);
      }
      await Promise.all(shardRuns);
      const read = (name: string) => logged.get(name)!.data[0];
      let norm = read(compiled.gradNorm);
      const values = compiled.terms.map((term) => read(term.output));
      if (shards.length > 0) {
        // Row-weighted means of the shards' terms and gradients (./shards.ts); the norm of the combined gradient.
        const weights = rows.map((r) => r / batch.size);
        const shardValue = (shard: ShardStep, name: string) => shard.outputs[name].data[0];
        compiled.terms.forEach((_, j) => (values[j] = weights[0] * values[j] + shards.reduce((sum, shard, k) => sum + weights[k + 1] * shardValue(shard, shard.compiled.terms[j].output), 0)));
        const grads = (optimizer as HostOptimizerState).grads;
        let squares = 0;
        grads.forEach((grad, i) => {
          const others = shards.map((shard) => shard.outputs[(shard.compiled.optimizer as HostAdamIo).grads[i]].data as Float32Array);
          squares += combineInto(grad.current.data as Float32Array, others, weights);
        });
        norm = Math.sqrt(squares);
      }
      const bad = compiled.terms.findIndex((_, j) => !Number.isFinite(values[j]));
      if (bad >= 0) return { terms, nonFinite: `loss term '${prefix}${compiled.terms[bad].name}' is ${values[bad]}`, applied };
      if (!Number.isFinite(norm)) return { terms, nonFinite: `gradient norm of phase '${compiled.phase}' is ${norm}`, applied };
      if (optimizer.kind === 'host') {
        // As ../tfjs.ts: gradients scaled by clipNorm / norm when the norm exceeds it.
        const scale = this.clipNorm !== undefined && norm > this.clipNorm ? this.clipNorm / norm : 1;
        compiled.trained.forEach((io, i) => {
          const param = (this.weights.get(io.variable.name) as ArenaTensor).slice;
          this.hostAdam!.update(param, optimizer.moments[i].m.slice, optimizer.moments[i].v.slice, optimizer.grads[i].slice, learningRate, t, scale);
        });
      }
      for (const buffer of written) buffer.swap();
      runner.iterations = t;
      this.dirty = true;
      applied.push(compiled.phase);
      compiled.terms.forEach((term, j) => (terms[`${prefix}${term.name}`] = values[j]));
      terms[`${prefix}gradNorm`] = norm;
    }
    return { terms };
  }

  /**
   * Each phase's step for batches of `size`: compiled and opened the first time such a batch comes
   * (an epoch's last, smaller batch), then cached. The tfjs model is synchronised first, as the
   * compiler reads the model.
   */
  private async stepsFor(size: number): Promise<CompiledStep[]> {
    const known = this.steps.get(size);
    if (known) return known;
    if (!Number.isInteger(size) || size < 1) throw new AekitError('BAD_ARGUMENT', `engine 'ort': a batch needs at least one image, got ${size}`);
    const started = performance.now();
    await this.syncModel();
    const steps = await openSteps(size, this.factory);
    this.steps.set(size, steps);
    this.factory.logger.debug(`engine ort: compiled the step for batches of ${size} in ${Math.round(performance.now() - started)} ms`);
    return steps;
  }

  /** The data of a per-step input, drawn exactly as the tfjs families draw it (same shape, same seed). */
  private stepData(fill: CompiledPhase['stepInputs'][number]['fill'], shape: number[], batch: HostBatch, ctx: StepContext): Float32Array {
    switch (fill.kind) {
      case 'images':
        return batch.images;
      case 'imagesB':
        if (!batch.imagesB) throw new AekitError('BAD_ARGUMENT', "engine 'ort': this model needs the second domain's images (HostBatch.imagesB)");
        return batch.imagesB;
      case 'oneHot':
        return oneHotRows(batch.labels, shape[1]); // as toTrainBatch (src/train/data.ts)
      case 'beta':
        return Float32Array.of(ctx.beta);
      case 'stepScalar':
        return Float32Array.of(fill.value(ctx));
      case 'normal': {
        const seed = fill.seedPath === undefined ? ctx.seed : Rng.derive(ctx.seed, fill.seedPath).seed();
        return drawn(tf.randomNormal(shape, fill.mean, fill.std, 'float32', seed));
      }
      case 'uniform': {
        const seed = fill.seedPath === undefined ? ctx.seed : Rng.derive(ctx.seed, fill.seedPath).seed();
        return drawn(tf.randomUniform(shape, 0, 1, 'float32', seed));
      }
    }
  }

  async syncModel(): Promise<void> {
    if (!this.dirty) return;
    for (const part of Object.values(this.model.parts)) {
      for (const variable of part.weights) {
        const buffer = this.weights.get(variable.name);
        if (!buffer) continue;
        // A copy: tfjs's cpu backend may keep the array it is given, and ours is rewritten each step.
        tf.tidy(() => {
          variable.write(tf.tensor(this.layouts.toTfjs(variable, buffer.values()), variable.shape as number[]));
        });
      }
    }
    this.dirty = false;
  }

  async optimizerStates(): Promise<{ phase: string; state: AdamState }[]> {
    return this.runners.map((runner) => ({
      phase: runner.phase,
      state: {
        step: runner.iterations,
        moments: runner.optimizer.moments.map((mv, i) => {
          const variable = runner.trained[i].variable;
          return { m: this.layouts.toTfjs(variable, mv.m.values()), v: this.layouts.toTfjs(variable, mv.v.values()), shape: variable.shape as number[] };
        }),
      },
    }));
  }

  async dispose(): Promise<void> {
    const steps = [...this.steps.values()].flat();
    this.steps.clear();
    await Promise.all(steps.map(releaseStep));
  }
}

/**
 * The values of a freshly drawn tensor, which is then disposed. Not through tf.tidy: tidy walks
 * what its callback returns, and walking a typed array visits every element (0.7 ms a step for
 * the MLP VAE's noise).
 */
function drawn(tensor: tf.Tensor): Float32Array {
  try {
    return tensor.dataSync() as Float32Array;
  } finally {
    tensor.dispose();
  }
}


function restoreAdam(runner: PhaseRunner, saved: AdamState, layouts: Layouts): void {
  const trained = runner.trained;
  if (saved.moments.length !== trained.length) {
    throw new AekitError('BAD_CHECKPOINT', `optimizer state of phase '${runner.phase}' has ${saved.moments.length} moment pairs, the model has ${trained.length} variables`);
  }
  saved.moments.forEach((moment, i) => {
    const expected = (trained[i].variable.shape as number[]).join('x');
    if (moment.shape.join('x') !== expected) {
      throw new AekitError('BAD_CHECKPOINT', `optimizer moment ${i} of phase '${runner.phase}' has shape ${moment.shape.join('x')}, expected ${expected}`);
    }
    runner.optimizer.moments[i].m.set(layouts.toStored(trained[i].variable, moment.m));
    runner.optimizer.moments[i].v.set(layouts.toStored(trained[i].variable, moment.v));
  });
  runner.iterations = saved.step;
}
