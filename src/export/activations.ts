/**
 * tfjs activation names (as `getConfig().activation` serialises them) -> ONNX nodes.
 */
import { onnxAxisOf } from './layout';
import { OnnxGraphBuilder } from './onnx-graph';

/** Emits the activation of `x` (a tensor of tfjs rank `rank`); returns the output name. */
type ActivationEmitter = (graph: OnnxGraphBuilder, x: string, rank: number, base: string) => string;

// tfjs's selu constants (tfjs-layers activations.ts, from Klambauer et al. 2017).
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;
// tfjs gelu_new (the tanh approximation): 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
const GELU_TANH_SCALE = Math.sqrt(2 / Math.PI);
const GELU_TANH_CUBIC = 0.044715;
// tfjs hardSigmoid is clip(0.2 * x + 0.5, 0, 1) (tfjs-layers backend/tfjs_backend.ts).
const HARD_SIGMOID_SLOPE = 0.2;
const HARD_SIGMOID_OFFSET = 0.5;

const scalar = (graph: OnnxGraphBuilder, value: number): string => graph.constant('scalar', 'float32', [], [value]);

const clipTo = (graph: OnnxGraphBuilder, x: string, base: string, min: number, max: number): string =>
  graph.node('Clip', [x, graph.constant('clip_min', 'float32', [], [min]), graph.constant('clip_max', 'float32', [], [max])], base);

const ACTIVATIONS: Readonly<Record<string, ActivationEmitter>> = Object.freeze({
  linear: (_g, x) => x,
  relu: (g, x, _r, base) => g.node('Relu', [x], base),
  relu6: (g, x, _r, base) => clipTo(g, x, base, 0, 6),
  elu: (g, x, _r, base) => g.node('Elu', [x], base, { alpha: { f: 1 } }),
  selu: (g, x, _r, base) => g.node('Selu', [x], base, { alpha: { f: SELU_ALPHA }, gamma: { f: SELU_SCALE } }),
  sigmoid: (g, x, _r, base) => g.node('Sigmoid', [x], base),
  hardSigmoid: (g, x, _r, base) =>
    g.node('HardSigmoid', [x], base, { alpha: { f: HARD_SIGMOID_SLOPE }, beta: { f: HARD_SIGMOID_OFFSET } }),
  tanh: (g, x, _r, base) => g.node('Tanh', [x], base),
  softplus: (g, x, _r, base) => g.node('Softplus', [x], base),
  softsign: (g, x, _r, base) => g.node('Softsign', [x], base),
  // tfjs applies softmax over the last (channel) axis, which is axis 1 of an NCHW tensor.
  softmax: (g, x, rank, base) => g.node('Softmax', [x], base, { axis: onnxAxisOf(-1, rank) }),
  logSoftmax: (g, x, rank, base) => g.node('LogSoftmax', [x], base, { axis: onnxAxisOf(-1, rank) }),
  // tfjs swish is x * sigmoid(x) (alpha 1); mish is x * tanh(softplus(x)).
  swish: (g, x, _r, base) => g.node('Mul', [x, g.node('Sigmoid', [x], `${base}/sigmoid`)], base),
  mish: (g, x, _r, base) =>
    g.node('Mul', [x, g.node('Tanh', [g.node('Softplus', [x], `${base}/softplus`)], `${base}/tanh`)], base),
  // tfjs gelu is exact: x * 0.5 * (1 + erf(x / sqrt(2))). Built from Erf because the Gelu op
  // only exists from opset 20.
  gelu: (g, x, _r, base) => {
    const scaled = g.node('Div', [x, scalar(g, Math.SQRT2)], `${base}/scaled`);
    const cdf = g.node('Mul', [g.node('Add', [g.node('Erf', [scaled], `${base}/erf`), scalar(g, 1)], `${base}/plus1`), scalar(g, 0.5)], `${base}/cdf`);
    return g.node('Mul', [x, cdf], base);
  },
  gelu_new: (g, x, _r, base) => {
    const cube = g.node('Mul', [g.node('Mul', [x, x], `${base}/square`), x], `${base}/cube`);
    const inner = g.node('Add', [x, g.node('Mul', [cube, scalar(g, GELU_TANH_CUBIC)], `${base}/cubic`)], `${base}/inner`);
    const t = g.node('Tanh', [g.node('Mul', [inner, scalar(g, GELU_TANH_SCALE)], `${base}/arg`)], `${base}/tanh`);
    const gate = g.node('Add', [t, scalar(g, 1)], `${base}/plus1`);
    return g.node('Mul', [g.node('Mul', [x, gate], `${base}/gated`), scalar(g, 0.5)], base);
  },
});

/** Activation names the converter understands. */
export const SUPPORTED_ACTIVATIONS: readonly string[] = Object.freeze(Object.keys(ACTIVATIONS));

/**
 * Emit `activation` applied to `x`; returns the output value name (`x` itself for 'linear'),
 * or undefined when the activation is unknown (the caller names the layer in its error).
 */
export function emitActivation(
  graph: OnnxGraphBuilder,
  x: string,
  activation: string,
  rank: number,
  base: string,
): string | undefined {
  return Object.hasOwn(ACTIVATIONS, activation) ? ACTIVATIONS[activation](graph, x, rank, base) : undefined;
}
