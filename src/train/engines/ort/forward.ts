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
  /** Graph input holding its value (tfjs layout). */
  input: string;
  /** Graph value holding its value after the step, for non-trainable state (BatchNorm moving statistics). */
  updated?: string;
}

/**
 * The tfjs variables a graph reads, each bound once to a graph input named after it. Non-trainable
 * variables that the forward pass updates (moving statistics) also get their updated value.
 */
export class ParameterTable {
  readonly bindings = new Map<string, ParameterBinding>();
  private readonly transposed = new Map<string, string>();

  constructor(private readonly g: TrainingGraph) {}

  /** The graph input holding a variable (created on first use). */
  bind(variable: tf.LayerVariable): string {
    const known = this.bindings.get(variable.name);
    if (known) return known.input;
    const input = this.g.input(`param:${variable.name}`, 'float32', variable.shape as number[]);
    this.bindings.set(variable.name, { variable, input });
    return input;
  }

  /** The variable's current value inside the graph (its update when the graph already made one). */
  current(variable: tf.LayerVariable): string {
    this.bind(variable);
    const binding = this.bindings.get(variable.name)!;
    return binding.updated ?? binding.input;
  }

  /** Record the value a state variable takes after the step. */
  update(variable: tf.LayerVariable, value: string): void {
    this.bind(variable);
    this.bindings.get(variable.name)!.updated = value;
  }

  /** The variable in a permuted layout (one Transpose per variable and permutation). */
  permuted(variable: tf.LayerVariable, perm: number[]): string {
    const key = `${variable.name}:${perm.join('')}`;
    const cached = this.transposed.get(key);
    if (cached) return cached;
    const name = this.g.node('Transpose', [this.bind(variable)], `${sanitizeName(variable.name)}/t`, { perm });
    this.transposed.set(key, name);
    return name;
  }
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
  let y = g.node('Mul', [centred, invStd], `${scope}/normed`);
  if (gamma) y = g.node('Mul', [y, g.node('Reshape', [params.bind(gamma), g.ints(broadcast)], `${scope}/gamma_b`)], `${scope}/scaled`);
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
