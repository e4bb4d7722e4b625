/**
 * The graph a training step is compiled into: the exporter's ONNX graph builder plus what
 * differentiation needs, namely the static shape and element type of every value. Shapes are
 * inferred as each node is added (./shapes.ts), so a gradient rule can always ask for the shape of
 * an operand. All shapes are static: a graph is compiled for one batch size (the engine compiles
 * another for an epoch's last, smaller batch: ./engine.ts), which keeps both inference and the
 * gradient rules simple.
 */
import { onnx } from 'onnx-proto';
import { OnnxGraphBuilder, valueInfo } from '../../../export/onnx-graph';
import type { Attributes, OnnxElementType } from '../../../export/onnx-graph';
import { AEKIT_VERSION } from '../../../core/version';
import { inferShapes } from './shapes';
import type { ValueInfo, ValueType } from './shapes';

/** Opset of training graphs: the exporter's default, whose Reduce* ops still take axes as attributes (ReduceSum as an input). */
export const TRAINING_OPSET = 17;
/** IR version that goes with {@link TRAINING_OPSET} (onnx/docs/Versioning.md). */
const TRAINING_IR_VERSION = 8;

export type { ValueInfo, ValueType } from './shapes';

/** Resolves a learned weight the exporter's layer converters ask for to a value name. */
export type WeightResolver = (key: string, nameBase: string, dims: readonly number[], data: Float32Array) => string;

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * An ONNX graph under construction whose every value has a known static shape. Layer converters
 * of the exporter write into it unchanged; their learned weights are routed through a
 * {@link WeightResolver} so that they become graph inputs (trained parameters) rather than
 * initializers.
 */
export class TrainingGraph extends OnnxGraphBuilder {
  private readonly infos = new Map<string, ValueInfo>();
  /** Values of int64 constants (shapes, axes, pads), which shape inference must read. */
  private readonly constants = new Map<string, number[]>();
  readonly inputs: string[] = [];
  /** Set while converting layers: where learned weights go. */
  weightResolver?: WeightResolver;
  /** Values whose gradient is cut (see {@link stopGradient}). */
  private readonly stopped = new Set<string>();

  /** Static type and shape of a value (throws for an unknown name: a bug in a rule). */
  info(name: string): ValueInfo {
    const info = this.infos.get(name);
    if (!info) throw new Error(`training graph: no shape known for value '${name}'`);
    return info;
  }

  shape(name: string): number[] {
    return this.info(name).shape;
  }

  /** Values of an int64 constant, or undefined when `name` is not one. */
  constantValues(name: string): number[] | undefined {
    return this.constants.get(name);
  }

  /**
   * `x` itself (an Identity) through which no gradient flows: tf.customGrad's straight-through
   * estimators are written as soft + stopGradient(hard - soft).
   */
  stopGradient(x: string, nameBase = 'stop_gradient'): string {
    const name = this.node('Identity', [x], nameBase);
    this.stopped.add(name);
    return name;
  }

  /** Whether `name` was made by {@link stopGradient}. */
  isStopped(name: string): boolean {
    return this.stopped.has(name);
  }

  /** Declare a graph input. */
  input(name: string, dtype: ValueType, shape: readonly number[]): string {
    this.reserve(name);
    this.infos.set(name, { dtype, shape: [...shape] });
    this.inputs.push(name);
    return name;
  }

  override constant(nameBase: string, type: 'float32' | 'int64', dims: readonly number[], values: readonly number[]): string {
    const name = super.constant(nameBase, type, dims, values);
    this.infos.set(name, { dtype: type, shape: [...dims] });
    if (type === 'int64') this.constants.set(name, [...values]);
    return name;
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.constant('c', 'float32', [], [value]);
  }

  /** An int64 vector constant (axes, shapes). */
  ints(values: readonly number[]): string {
    return this.constant('i', 'int64', [values.length], values);
  }

  /** A float32 initializer holding a whole tensor (not a learned weight: it is not trained). */
  tensor(nameBase: string, dims: readonly number[], data: Float32Array): string {
    const name = this.unique(nameBase);
    this.initializers.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [...dims], rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) }));
    this.infos.set(name, { dtype: 'float32', shape: [...dims] });
    return name;
  }

  override weight(key: string, nameBase: string, dims: readonly number[], data: Float32Array): string {
    if (this.weightResolver) return this.weightResolver(key, nameBase, dims, data);
    const name = super.weight(key, nameBase, dims, data);
    this.infos.set(name, { dtype: 'float32', shape: [...dims] });
    return name;
  }

  override node(opType: string, inputs: readonly string[], outputBase: string, attributes: Attributes = {}): string {
    const output = super.node(opType, inputs, outputBase, attributes);
    this.inferLast();
    return output;
  }

  /** A node with several outputs (Split); returns their names. */
  nodeMulti(opType: string, inputs: readonly string[], outputBases: readonly string[], attributes: Attributes = {}): string[] {
    const first = super.node(opType, inputs, outputBases[0], attributes);
    const last = this.nodes[this.nodes.length - 1];
    const rest = outputBases.slice(1).map((base) => this.unique(base));
    last.output = [first, ...rest];
    this.inferLast();
    return last.output;
  }

  private inferLast(): void {
    const node = this.nodes[this.nodes.length - 1];
    const outputs = inferShapes(node, (name) => this.info(name), (name) => this.constants.get(name));
    node.output.forEach((name, i) => this.infos.set(name, outputs[i]));
  }

  /** The ONNX model of this graph with the given values as outputs (in that order). */
  toModel(outputs: readonly string[], name = 'aekit_training_step'): onnx.ModelProto {
    const inputInfos = this.inputs.map((n) => valueInfo(n, elementType(this.info(n).dtype), this.shape(n)));
    const outputInfos = outputs.map((n) => valueInfo(n, elementType(this.info(n).dtype), this.shape(n)));
    return onnx.ModelProto.create({
      irVersion: TRAINING_IR_VERSION,
      opsetImport: [{ domain: '', version: TRAINING_OPSET }],
      producerName: 'aekit',
      producerVersion: AEKIT_VERSION,
      graph: onnx.GraphProto.create({ name, node: this.nodes, initializer: this.initializers, input: inputInfos, output: outputInfos }),
    });
  }
}

function elementType(dtype: ValueType): OnnxElementType {
  if (dtype === 'bool') throw new Error('training graph: bool graph inputs and outputs are not supported');
  return dtype;
}

/** Serialised bytes of a model. */
export function modelBytes(model: onnx.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A copy of a float32 model computing in float64: every float tensor type, initializer and Cast
 * target becomes double. Used by the gradient checks, which need finite differences far below
 * float32 resolution, for ops onnxruntime's CPU provider implements in double.
 */
export function toFloat64(model: onnx.ModelProto): onnx.ModelProto {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const DOUBLE = onnx.TensorProto.DataType.DOUBLE;
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = copy.graph!;
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    if (v.type?.tensorType?.elemType === FLOAT) v.type.tensorType.elemType = DOUBLE;
  }
  graph.initializer = (graph.initializer ?? []).map((t) => {
    if (t.dataType !== FLOAT) return t;
    const raw = t.rawData!;
    const floats = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const doubles = Float64Array.from(floats);
    return onnx.TensorProto.create({ name: t.name, dataType: DOUBLE, dims: t.dims, rawData: new Uint8Array(doubles.buffer) });
  });
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Cast') continue;
    for (const a of node.attribute ?? []) if (a.name === 'to' && Number(a.i) === FLOAT) a.i = DOUBLE;
  }
  return copy;
}
