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
 * Tensors the graph updates (BatchNorm statistics, and with Adam in the graph also parameters and
 * moments) have two JS buffers: the step reads one (inputs wrap JS memory without a copy) and
 * writes the other (pre-allocated outputs), then they swap. A step whose loss or gradient norm is
 * not finite is simply not swapped in, so the last good values are kept without a copy.
 * onnxruntime-node 1.30 has no CPU IO binding, so state cannot stay in onnxruntime's own memory
 * between runs (see docs/benchmarks.md, "Training").
 */
import { AekitError } from '../../../core/errors';
import { Rng } from '../../../core/rng';
import { tf } from '../../../core/tfjs-backend';
import { openOrtSession } from '../../../artifact/runtime';
import type { HostTensor, OrtSessionHandle } from '../../../artifact/runtime';
import type { FamilyModel, StepContext } from '../../../models';
import type { AdamSettings, AdamState } from '../../optim';
import type { EngineSetup, HostBatch, StepOutcome, TrainingEngine } from '../types';
import { compilePhases } from './compile';
import type { CompiledPhase, GraphAdamIo, HostAdamIo } from './compile';
import { modelBytes } from './graph';
import { HostAdam } from './host-adam';
import type { ArenaSlice } from './host-adam';

/**
 * Idle onnxruntime threads block instead of spin-waiting between operators. A training step is
 * hundreds of small operators; spinning threads hold their cores between them. On the 2-core
 * development machine shared with other work (load 5-10), spinning made the median MLP VAE step
 * 2-7x slower (e.g. 37.5 vs 6.3 ms); only on an idle machine can spinning win (best steps 3.9 vs
 * 5.9 ms). See docs/benchmarks.md, "Training".
 */
const ORT_TRAINING_SPINNING = false;

/** A tensor of the engine's state: what the next step reads, its values, and restoring them. */
interface StateTensor {
  readonly shape: readonly number[];
  readonly current: HostTensor;
  /** A copy of the current values. */
  values(): Float32Array;
  set(values: Float32Array): void;
}

/** Two float32 buffers of one tensor: `current` is read by the next step, `spare` written by it. */
class DoubleBuffer implements StateTensor {
  private readonly tensors: [HostTensor, HostTensor];
  private front = 0;

  constructor(
    readonly shape: readonly number[],
    initial: Float32Array,
  ) {
    const dims = [...shape];
    this.tensors = [
      { dtype: 'float32', data: Float32Array.from(initial), dims },
      { dtype: 'float32', data: new Float32Array(initial.length), dims },
    ];
  }

  get current(): HostTensor {
    return this.tensors[this.front];
  }

  get spare(): HostTensor {
    return this.tensors[1 - this.front];
  }

  values(): Float32Array {
    return (this.current.data as Float32Array).slice();
  }

  swap(): void {
    this.front = 1 - this.front;
  }

  set(values: Float32Array): void {
    (this.current.data as Float32Array).set(values);
  }
}

/** A tensor in the host optimizer's arena, updated in place. */
class ArenaTensor implements StateTensor {
  readonly current: HostTensor;

  constructor(
    readonly shape: readonly number[],
    readonly slice: ArenaSlice,
  ) {
    // The view exists once the arena is sealed; `current` reads it then.
    const dims = [...shape];
    this.current = {
      dtype: 'float32',
      get data() {
        return slice.view;
      },
      dims,
    };
  }

  values(): Float32Array {
    return this.slice.view.slice();
  }

  set(values: Float32Array): void {
    this.slice.view.set(values);
  }
}

/** Adam state of a phase whose optimizer is in the graph. */
interface GraphOptimizer {
  io: GraphAdamIo;
  moments: { m: DoubleBuffer; v: DoubleBuffer }[];
}

/** Adam state of a phase whose optimizer runs on the host. */
interface HostOptimizer {
  io: HostAdamIo;
  moments: { m: ArenaTensor; v: ArenaTensor }[];
  grads: ArenaTensor[];
}

interface PhaseRunner {
  compiled: CompiledPhase;
  session: OrtSessionHandle;
  /** Adam updates applied so far. */
  iterations: number;
  optimizer: GraphOptimizer | HostOptimizer;
}

function elements(shape: readonly (number | null)[]): number {
  return shape.reduce((a: number, b) => a * (b ?? 1), 1);
}

/** Trains with graphs compiled to ONNX, on onnxruntime. */
export class OrtEngine implements TrainingEngine {
  readonly name = 'ort' as const;
  /** Whether the tfjs model lags behind the engine's weights. */
  private dirty = false;

  private constructor(
    private readonly model: FamilyModel,
    private readonly runners: PhaseRunner[],
    /** Every variable any phase reads, by tfjs variable name. */
    private readonly weights: Map<string, StateTensor>,
    private readonly hostAdam: HostAdam | undefined,
    private readonly adam: AdamSettings,
    private readonly clipNorm: number | undefined,
    private readonly batchSize: number,
    readonly detail: string,
  ) {}

  /**
   * Compile the model's phases and open their sessions.
   *
   * @throws AekitError BAD_CONFIG when the model cannot be trained by this engine
   */
  static async create(setup: EngineSetup): Promise<OrtEngine> {
    const started = performance.now();
    const runtime = setup.runtime ?? 'ort-node-cpu';
    const placement = runtime === 'ort-node-cpu' ? 'host' : 'graph';
    const compiled = compilePhases(setup.model, { batchSize: setup.batchSize, adam: setup.adam, clipNorm: setup.clipNorm, optimizer: placement });
    const hostAdam = placement === 'host' ? new HostAdam(setup.adam) : undefined;
    const weights = new Map<string, StateTensor>();
    const shapeOf = (v: { shape: readonly (number | null)[] }) => v.shape as number[];
    // Parameters some phase trains: in the arena (host Adam) or double-buffered (graph Adam).
    for (const phase of compiled) {
      for (const io of phase.trained) {
        if (weights.has(io.variable.name)) continue;
        const initial = io.variable.read().dataSync() as Float32Array;
        weights.set(io.variable.name, hostAdam ? new ArenaTensor(shapeOf(io.variable), hostAdam.slice(initial.length, initial)) : new DoubleBuffer(shapeOf(io.variable), initial));
      }
    }
    // Everything else read: BatchNorm statistics (updated by the graph) and other phases' frozen weights.
    for (const phase of compiled) {
      for (const io of phase.others) {
        if (!weights.has(io.variable.name)) weights.set(io.variable.name, new DoubleBuffer(shapeOf(io.variable), io.variable.read().dataSync() as Float32Array));
      }
    }
    const optimizers = compiled.map((phase): GraphOptimizer | HostOptimizer => {
      const shapes = phase.trained.map((t) => shapeOf(t.variable));
      if (phase.optimizer.kind === 'host') {
        const arena = (shape: number[]) => new ArenaTensor(shape, hostAdam!.slice(elements(shape)));
        return { io: phase.optimizer, moments: shapes.map((shape) => ({ m: arena(shape), v: arena(shape) })), grads: shapes.map(arena) };
      }
      const zeros = (shape: number[]) => new DoubleBuffer(shape, new Float32Array(elements(shape)));
      return { io: phase.optimizer, moments: shapes.map((shape) => ({ m: zeros(shape), v: zeros(shape) })) };
    });
    hostAdam?.seal();

    const runners: PhaseRunner[] = [];
    try {
      for (const [i, phase] of compiled.entries()) {
        const session = await openOrtSession(runtime, modelBytes(phase.model), { threads: setup.threads, spinning: ORT_TRAINING_SPINNING });
        const runner: PhaseRunner = { compiled: phase, session, iterations: 0, optimizer: optimizers[i] };
        runners.push(runner);
        const saved = setup.savedOptimizers[phase.phase];
        if (saved) restoreAdam(runner, saved);
        setup.logger.debug(`engine ort: phase '${phase.phase}': ${phase.model.graph?.node?.length ?? 0} nodes, ${phase.trained.length} trained tensors`);
      }
    } catch (error) {
      await Promise.all(runners.map((r) => r.session.release()));
      throw error;
    }
    const detail = `${runtime}, Adam in the ${placement === 'host' ? 'host arena' : 'graph'}, threads: ${setup.threads ?? 'onnxruntime default'}`;
    setup.logger.debug(`engine ort: compiled in ${Math.round(performance.now() - started)} ms (${detail})`);
    return new OrtEngine(setup.model, runners, weights, hostAdam, setup.adam, setup.clipNorm, setup.batchSize, detail);
  }

  async step(batch: HostBatch, ctx: StepContext, learningRate: number): Promise<StepOutcome> {
    if (batch.size !== this.batchSize) {
      throw new AekitError('BAD_ARGUMENT', `engine 'ort' was compiled for batches of ${this.batchSize}, got ${batch.size}`);
    }
    const terms: Record<string, number> = {};
    const applied: string[] = [];
    const multi = this.runners.length > 1;
    for (const runner of this.runners) {
      const { compiled, optimizer } = runner;
      const prefix = multi ? `${compiled.phase}.` : '';
      const t = runner.iterations + 1;
      const feeds: Record<string, HostTensor> = {};
      for (const input of compiled.stepInputs) {
        feeds[input.input] = { dtype: 'float32', data: this.stepData(input.fill, input.drawShape ?? input.shape, batch, ctx), dims: input.shape };
      }
      // Scalars (loss terms, gradient norm) are written into one small array each.
      const logged = new Map<string, HostTensor>();
      for (const name of [...compiled.terms.map((term) => term.output), compiled.gradNorm]) logged.set(name, scalar(Number.NaN));
      const outputs: Record<string, HostTensor> = Object.fromEntries(logged);
      const written: DoubleBuffer[] = [];
      for (const io of compiled.trained) feeds[io.input] = this.weights.get(io.variable.name)!.current;
      if (optimizer.io.kind === 'graph') {
        const graph = optimizer as GraphOptimizer;
        feeds[graph.io.lrOverC1] = scalar(learningRate / (1 - this.adam.beta1 ** t));
        feeds[graph.io.c2] = scalar(1 - this.adam.beta2 ** t);
        compiled.trained.forEach((io, i) => {
          const weight = this.weights.get(io.variable.name) as DoubleBuffer;
          const { m, v } = graph.moments[i];
          const slot = graph.io.slots[i];
          feeds[slot.m.input] = m.current;
          feeds[slot.v.input] = v.current;
          outputs[slot.output] = weight.spare;
          outputs[slot.m.output] = m.spare;
          outputs[slot.v.output] = v.spare;
          written.push(weight, m, v);
        });
      } else {
        const host = optimizer as HostOptimizer;
        host.io.grads.forEach((name, i) => (outputs[name] = host.grads[i].current));
      }
      for (const io of compiled.others) {
        const weight = this.weights.get(io.variable.name)!;
        feeds[io.input] = weight.current;
        if (io.output) {
          outputs[io.output] = (weight as DoubleBuffer).spare;
          written.push(weight as DoubleBuffer);
        }
      }
      await runner.session.runInto(feeds, outputs);
      const read = (name: string) => logged.get(name)!.data[0];
      const norm = read(compiled.gradNorm);
      const bad = compiled.terms.find((term) => !Number.isFinite(read(term.output)));
      if (bad) return { terms, nonFinite: `loss term '${prefix}${bad.name}' is ${read(bad.output)}`, applied };
      if (!Number.isFinite(norm)) return { terms, nonFinite: `gradient norm of phase '${compiled.phase}' is ${norm}`, applied };
      if (optimizer.io.kind === 'host') {
        const host = optimizer as HostOptimizer;
        // As ../tfjs.ts: gradients scaled by clipNorm / norm when the norm exceeds it.
        const scale = this.clipNorm !== undefined && norm > this.clipNorm ? this.clipNorm / norm : 1;
        compiled.trained.forEach((io, i) => {
          const param = (this.weights.get(io.variable.name) as ArenaTensor).slice;
          this.hostAdam!.update(param, host.moments[i].m.slice, host.moments[i].v.slice, host.grads[i].slice, learningRate, t, scale);
        });
      }
      for (const buffer of written) buffer.swap();
      runner.iterations = t;
      this.dirty = true;
      applied.push(compiled.phase);
      for (const term of compiled.terms) terms[`${prefix}${term.name}`] = read(term.output);
      terms[`${prefix}gradNorm`] = norm;
    }
    return { terms };
  }

  /** The data of a per-step input, drawn exactly as the tfjs families draw it (same shape, same seed). */
  private stepData(fill: CompiledPhase['stepInputs'][number]['fill'], shape: number[], batch: HostBatch, ctx: StepContext): Float32Array {
    switch (fill.kind) {
      case 'images':
        return batch.images;
      case 'imagesB':
        if (!batch.imagesB) throw new AekitError('BAD_ARGUMENT', "engine 'ort': this model needs the second domain's images (HostBatch.imagesB)");
        return batch.imagesB;
      case 'oneHot': {
        const [rows, classes] = shape;
        const data = new Float32Array(rows * classes);
        // As toTrainBatch (src/train/data.ts): unlabelled (-1) rows count as class 0.
        for (let r = 0; r < rows; r++) data[r * classes + Math.max(0, batch.labels[r])] = 1;
        return data;
      }
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
          variable.write(tf.tensor(buffer.values(), buffer.shape as number[]));
        });
      }
    }
    this.dirty = false;
  }

  async optimizerStates(): Promise<{ phase: string; state: AdamState }[]> {
    return this.runners.map((runner) => ({
      phase: runner.compiled.phase,
      state: {
        step: runner.iterations,
        moments: runner.optimizer.moments.map((mv, i) => ({ m: mv.m.values(), v: mv.v.values(), shape: runner.compiled.trained[i].variable.shape as number[] })),
      },
    }));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.session.release()));
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

/** A float32 scalar. */
function scalar(value: number): HostTensor {
  return { dtype: 'float32', data: Float32Array.of(value), dims: [] };
}

function restoreAdam(runner: PhaseRunner, saved: AdamState): void {
  const trained = runner.compiled.trained;
  if (saved.moments.length !== trained.length) {
    throw new AekitError('BAD_CHECKPOINT', `optimizer state of phase '${runner.compiled.phase}' has ${saved.moments.length} moment pairs, the model has ${trained.length} variables`);
  }
  saved.moments.forEach((moment, i) => {
    const expected = (trained[i].variable.shape as number[]).join('x');
    if (moment.shape.join('x') !== expected) {
      throw new AekitError('BAD_CHECKPOINT', `optimizer moment ${i} of phase '${runner.compiled.phase}' has shape ${moment.shape.join('x')}, expected ${expected}`);
    }
    runner.optimizer.moments[i].m.set(moment.m);
    runner.optimizer.moments[i].v.set(moment.v);
  });
  runner.iterations = saved.step;
}
