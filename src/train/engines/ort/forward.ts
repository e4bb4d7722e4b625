/**
 * Emits the forward pass of a tfjs LayersModel into a training graph, in training mode. Layers are
 * converted by the exporter's own converters (src/export/layers.ts), so the trained graph computes
 * exactly what the exported artifact will; only layers whose training behaviour differs from
 * inference get a rule of their own here (BatchNormalization normalises with batch statistics and
 * updates its moving averages). Learned weights become graph inputs in tfjs's layout, with a
 * Transpose where the exporter wants another one, so gradients and Adam moments stay in tfjs's
 * layout and checkpoints are engine-independent.
 */
import { AekitError } from '../../../core/errors';
import type { tf } from '../../../core/tfjs-backend';
import { sanitizeName } from '../../../export/convert';
import { convertLayer } from '../../../export/layers';
import type { TfjsShape, Value } from '../../../export/layers';
import { onnxAxisOf } from '../../../export/layout';
import type { TrainingGraph } from './graph';

/** tfjs-layers' BatchNormalization defaults (layers/normalization.ts). */
const TFJS_BN_DEFAULTS = { momentum: 0.99, epsilon: 1e-3 } as const;

/**
 * Layer classes the engine trains. Every class here converts with the exporter's converter except
 * BatchNormalization, which has a training-mode rule below. Regularisers that act only in training
 * (Dropout, GaussianNoise, ...) are absent on purpose: they would silently train a different model.
 */
export const TRAINABLE_LAYERS: readonly string[] = Object.freeze([
  'Activation',
  'Add',
  'BatchNormalization',
  'Concatenate',
  'Conv2D',
  'Conv2DTranspose',
  'Dense',
  'ELU',
  'Flatten',
  'LeakyReLU',
  'MaxPooling2D',
  'ReLU',
  'Reshape',
]);

/** One tfjs variable bound to a graph input. */
export interface ParameterBinding {
  variable: tf.LayerVariable;
  /** Graph input holding its value: in tfjs layout, or permuted by `perm`. */
  input: string;
  /**
   * The input's layout: input dims = tfjs dims permuted by `perm` (ONNX's kernel layout). Absent:
   * tfjs layout.
   */
  perm?: number[];
  /** Graph value holding its value after the step, for non-trainable state (BatchNorm moving statistics). */
  updated?: string;
}

/**
 * The tfjs variables a graph reads, each bound once to a graph input named after it. Non-trainable
 * variables that the forward pass updates (moving statistics) also get their updated value.
 *
 * With `storePermuted`, a variable whose first use asks for a permuted layout (a convolution kernel:
 * tfjs [kh, kw, in, out], ONNX [out, in, kh, kw]) gets its graph input in that layout, so neither
 * the weight nor its gradient goes through a Transpose each step; the engine keeps the value in
 * that layout (ParameterBinding.perm) and converts only when it syncs with tfjs. Those Transposes
 * were ~10% of the DCGAN step (docs/benchmarks.md, "Training").
 */
export class ParameterTable {
  readonly bindings = new Map<string, ParameterBinding>();
  private readonly transposed = new Map<string, string>();

  constructor(
    private readonly g: TrainingGraph,
    private readonly storePermuted = false,
  ) {}

  /** The graph input of a variable, in the layout it is stored in (created on first use, in tfjs layout). */
  input(variable: tf.LayerVariable): string {
    return (this.bindings.get(variable.name) ?? this.create(variable)).input;
  }

  /** The variable in tfjs layout (created on first use). */
  bind(variable: tf.LayerVariable): string {
    const binding = this.bindings.get(variable.name) ?? this.create(variable);
    return binding.perm ? this.transpose(variable, binding.input, inversePermutation(binding.perm), '') : binding.input;
  }

  /** The variable's current value inside the graph (its update when the graph already made one). */
  current(variable: tf.LayerVariable): string {
    return this.bindings.get(variable.name)?.updated ?? this.bind(variable);
  }

  /** Record the value a state variable takes after the step. */
  update(variable: tf.LayerVariable, value: string): void {
    this.bind(variable);
    this.bindings.get(variable.name)!.updated = value;
  }

  /** The variable in a permuted layout (its input itself when stored so; else one Transpose per variable and permutation). */
  permuted(variable: tf.LayerVariable, perm: number[]): string {
    const known = this.bindings.get(variable.name);
    if (!known && this.storePermuted) return this.create(variable, perm).input;
    if (known?.perm && known.perm.join() === perm.join()) return known.input;
    return this.transpose(variable, this.bind(variable), perm, '/t');
  }

  private create(variable: tf.LayerVariable, perm?: number[]): ParameterBinding {
    const shape = variable.shape as number[];
    const binding: ParameterBinding = {
      variable,
      input: this.g.input(`param:${variable.name}`, 'float32', perm ? perm.map((axis) => shape[axis]) : shape),
      ...(perm ? { perm: [...perm] } : {}),
    };
    this.bindings.set(variable.name, binding);
    return binding;
  }

  private transpose(variable: tf.LayerVariable, value: string, perm: number[], suffix: string): string {
    const key = `${variable.name}:${value}:${perm.join('')}`;
    const cached = this.transposed.get(key);
    if (cached) return cached;
    const name = this.g.node('Transpose', [value], `${sanitizeName(variable.name)}${suffix || '/tfjs'}`, { perm });
    this.transposed.set(key, name);
    return name;
  }
}

/** The permutation that undoes `perm`. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((axis, i) => (inverse[axis] = i));
  return inverse;
}

function unsupported(message: string, where: string): AekitError {
  return new AekitError('BAD_CONFIG', `${message}; use --engine tfjs`, { where });
}

function tensorKey(layer: tf.layers.Layer, nodeIndex: number, tensorIndex: number): string {
  return `${layer.name}\u0000${nodeIndex}\u0000${tensorIndex}`;
}

/** Training-mode BatchNormalization over the channel axis, as tfjs-layers computes it. */
function batchNormTraining(g: TrainingGraph, layer: tf.layers.Layer, x: Value, params: ParameterTable, scope: string): string {
  const config = layer.getConfig();
  const rank = x.shape.length;
  const axis = typeof config.axis === 'number' ? config.axis : -1;
  if (axis !== -1 && axis !== rank - 1) throw unsupported(`engine 'ort' trains BatchNormalization over the last axis only, found axis ${axis}`, `layer '${layer.name}'`);
  const epsilon = typeof config.epsilon === 'number' ? config.epsilon : TFJS_BN_DEFAULTS.epsilon;
  const momentum = typeof config.momentum === 'number' ? config.momentum : TFJS_BN_DEFAULTS.momentum;
  const find = (suffix: string) => layer.weights.find((w) => w.originalName.split('/').pop() === suffix);
  const movingMean = find('moving_mean');
  const movingVariance = find('moving_variance');
  if (!movingMean || !movingVariance) throw unsupported('BatchNormalization without moving statistics', `layer '${layer.name}'`);
  const gamma = config.scale === false ? undefined : find('gamma');
  const beta = config.center === false ? undefined : find('beta');
  const channelAxis = onnxAxisOf(-1, rank);
  const channels = movingMean.shape[0] as number;
  const reduce = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== channelAxis);
  const broadcast = Array.from({ length: rank }, (_, i) => (i === channelAxis ? channels : 1));
  // tfjs.moments: mean, then the mean of squared deviations (biased), both differentiated.
  const mean = g.node('ReduceMean', [x.name], `${scope}/mean`, { axes: reduce, keepdims: 1 });
  const centred = g.node('Sub', [x.name, mean], `${scope}/centred`);
  const variance = g.node('ReduceMean', [g.node('Mul', [centred, centred], `${scope}/sq`)], `${scope}/variance`, { axes: reduce, keepdims: 1 });
  const invStd = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [variance, g.scalar(epsilon)], `${scope}/var_eps`)], `${scope}/std`)], `${scope}/inv_std`);
  // gamma folded into the per-channel 1/std first: one full-size Mul (and its gradients) fewer than
  // (centred * invStd) * gamma, the same value up to float reassociation.
  const scale = gamma ? g.node('Mul', [invStd, g.node('Reshape', [params.bind(gamma), g.ints(broadcast)], `${scope}/gamma_b`)], `${scope}/scale`) : invStd;
  let y = g.node('Mul', [centred, scale], `${scope}/normed`);
  if (beta) y = g.node('Add', [y, g.node('Reshape', [params.bind(beta), g.ints(broadcast)], `${scope}/beta_b`)], `${scope}/shifted`);
  // Moving averages: moving - (moving - batch) * (1 - momentum), tfjs-layers' doMovingAverage.
  const decay = g.scalar(1 - momentum);
  for (const [variable, batchStat] of [
    [movingMean, mean],
    [movingVariance, variance],
  ] as const) {
    const current = params.current(variable);
    const flat = g.node('Reshape', [batchStat, g.ints([channels])], `${scope}/stat`);
    const delta = g.node('Mul', [g.node('Sub', [current, flat], `${scope}/stat_diff`), decay], `${scope}/stat_delta`);
    params.update(variable, g.node('Sub', [current, delta], `${scope}/stat_new`));
  }
  return y;
}

/**
 * Apply a LayersModel to graph values (rank-4 tensors NCHW, as in exported artifacts) in training
 * mode; returns its outputs in `model.outputs` order.
 *
 * @throws AekitError BAD_CONFIG naming the layer when a layer class cannot be trained by this engine
 */
export function applyModel(g: TrainingGraph, model: tf.LayersModel, inputs: readonly string[], params: ParameterTable): string[] {
  if (inputs.length !== model.inputs.length) throw new Error(`applyModel: ${inputs.length} inputs for ${model.inputs.length}`);
  const variables = new Map(model.weights.map((w) => [w.name, w]));
  const values = new Map<string, Value>();
  model.inputs.forEach((t, i) => values.set(tensorKey(t.sourceLayer, t.nodeIndex, t.tensorIndex), { name: inputs[i], shape: t.shape, dtype: 'float32' }));
  const scopePrefix = sanitizeName(model.name);

  const visit = (t: tf.SymbolicTensor): Value => {
    const known = values.get(tensorKey(t.sourceLayer, t.nodeIndex, t.tensorIndex));
    if (known) return known;
    const layer = t.sourceLayer;
    const className = layer.getClassName();
    const where = `layer '${layer.name}' (${className})`;
    if (!TRAINABLE_LAYERS.includes(className)) {
      throw unsupported(`engine 'ort' cannot train layer class '${className}' yet (it trains: ${TRAINABLE_LAYERS.join(', ')})`, where);
    }
    const node = layer.inboundNodes[t.nodeIndex];
    const ins = node.inputTensors.map(visit);
    const outputShapes: TfjsShape[] = node.outputTensors.map((o) => o.shape);
    const scope = `${scopePrefix}/${sanitizeName(layer.name)}`;
    let names: string[];
    if (className === 'BatchNormalization') {
      names = [batchNormTraining(g, layer, ins[0], params, scope)];
    } else {
      g.weightResolver = (key) => {
        const match = /^(.*):(\d+)$/.exec(key);
        const variable = variables.get(match ? match[1] : key);
        if (!variable) throw unsupported(`weight '${key}' is not a variable of the model`, where);
        return match ? params.permuted(variable, match[2].split('').map(Number)) : params.bind(variable);
      };
      try {
        names = convertLayer({ layer, className, inputs: ins, outputShapes, graph: g, scope });
      } finally {
        g.weightResolver = undefined;
      }
    }
    node.outputTensors.forEach((o, i) => values.set(tensorKey(layer, t.nodeIndex, i), { name: names[i], shape: o.shape, dtype: 'float32' }));
    return values.get(tensorKey(t.sourceLayer, t.nodeIndex, t.tensorIndex))!;
  };
  return model.outputs.map((t) => visit(t).name);
}
