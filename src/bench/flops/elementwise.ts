/**
 * Element-wise ops: one FLOP per output element (per input after the first for the broadcasting
 * ones), two for the normalisations at inference (scale and shift); Identity, Cast and Where
 * compute nothing.
 */
import { broadcast, product } from './node';
import type { FlopRule } from './node';

/** Element-wise ops with several inputs and numpy broadcasting. */
const BROADCASTING = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Min', 'Max', 'Sum', 'Mean', 'PRelu', 'Where', 'Equal', 'Greater', 'Less'];

/** Ops that keep their input's shape, listed so that an unknown op type is reported rather than guessed. */
const UNARY = [
  'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'HardSigmoid', 'Tanh', 'Softplus', 'Softsign', 'Erf', 'Exp', 'Log',
  'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Clip', 'Softmax', 'LogSoftmax', 'Identity', 'Cast', 'Floor', 'Ceil', 'Round',
  'Sign', 'Gelu', 'HardSwish', 'Mish', 'ThresholdedRelu', 'Celu', 'Not',
];

/** Unary ops that only copy or relabel their input. */
const ZERO_COST_UNARY = new Set(['Identity', 'Cast']);

const NORMALISATIONS = ['BatchNormalization', 'InstanceNormalization', 'LayerNormalization'];

const broadcasting: FlopRule = ({ node, op, shape }) => {
  const inputs = node.input ?? [];
  const out = broadcast(inputs.map((_, i) => shape(i)));
  return { shapes: [out], flops: op === 'Where' ? 0 : product(out) * Math.max(1, inputs.length - 1) };
};

const unary: FlopRule = ({ op, shape }) => {
  const x = shape(0);
  return { shapes: [x], flops: ZERO_COST_UNARY.has(op) ? 0 : product(x) };
};

const normalisation: FlopRule = ({ shape }) => {
  const x = shape(0);
  return { shapes: [x], flops: 2 * product(x) };
};

/** Rules of the element-wise ops, by op type. */
export const ELEMENTWISE_RULES: Readonly<Record<string, FlopRule>> = Object.fromEntries([
  ...BROADCASTING.map((op) => [op, broadcasting] as const),
  ...UNARY.map((op) => [op, unary] as const),
  ...NORMALISATIONS.map((op) => [op, normalisation] as const),
]);
