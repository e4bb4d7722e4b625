/**
 * tfjs LayersModel -> ONNX ModelProto: walks the layer graph from the model's outputs back to its
 * inputs, converting each layer application once, in topological order.
 */
import { onnx } from 'onnx-proto';
import { AekitError } from '../core/errors';
import { tf } from '../core/tfjs-backend';
import { convertLayer, layerActivation, TfjsShape, Value } from './layers';
import { onnxShapeOf } from './layout';
import { ARTIFACT_IMAGE_LAYOUT, BATCH_DIM, LAYOUT_BY_RANK, TensorSpec } from '../artifact/metadata';
import { AEKIT_VERSION } from '../core/version';
import { OnnxGraphBuilder, valueInfo } from './onnx-graph';

/** Opset written when none is asked for. */
export const DEFAULT_OPSET = 17;
/**
 * Opsets the converter can target: 13 is the first with the Softmax/Resize semantics it emits;
 * 21 is the newest whose operators it has been checked against.
 */
export const MIN_OPSET = 13;
/** See {@link MIN_OPSET}. */
export const MAX_OPSET = 21;

/** IR version released with each opset (onnx/docs/Versioning.md): 8 up to opset 18, 9 to 20, 10 for 21. */
function irVersionFor(opset: number): number {
  if (opset <= 18) return 8;
  return opset <= 20 ? 9 : 10;
}

/** Options of {@link convertLayersModel}. */
export interface ConvertOptions {
  /** ONNX opset, {@link DEFAULT_OPSET} by default. */
  opset?: number;
  /** Artifact input names, in `model.inputs` order; default: the input layers' names, sanitised. */
  inputNames?: string[];
  /** Artifact output names, in `model.outputs` order; default: the output layers' names, sanitised. */
  outputNames?: string[];
}

/** A converted model before metadata and encoding. */
export interface ConvertedModel {
  model: onnx.ModelProto;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Activation of the layer behind the first output. */
  outputActivation: string;
  /** Initializers that hold learned weights (fp16 applies to these only). */
  weightNames: ReadonlySet<string>;
}

/** A tfjs name made safe for ONNX/Triton/JS property use: letters, digits, '_', '.', '-'. */
export function sanitizeName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return clean.length > 0 ? clean : '_';
}

function dedupe(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    let name = n;
    for (let i = 1; seen.has(name); i++) name = `${n}_${i}`;
    seen.add(name);
    return name;
  });
}

function resolveNames(kind: 'input' | 'output', tensors: tf.SymbolicTensor[], override: string[] | undefined): string[] {
  if (!override) return dedupe(tensors.map((t) => sanitizeName(t.sourceLayer.name)));
  if (override.length !== tensors.length) {
    throw new AekitError('BAD_ARGUMENT', `${override.length} ${kind} names given, the model has ${tensors.length} ${kind}s`, {
      where: `${kind}Names`,
    });
  }
  override.forEach((n, i) => {
    if (n.length === 0) throw new AekitError('BAD_ARGUMENT', `${kind} name ${i} is empty`, { where: `${kind}Names` });
  });
  return override;
}

function dtypeOf(t: tf.SymbolicTensor): 'float32' | 'int32' {
  if (t.dtype === 'float32' || t.dtype === 'int32') return t.dtype;
  throw new AekitError('EXPORT_FAILED', `dtype '${t.dtype}' is not supported (expected float32 or int32)`, {
    where: `tensor '${t.name}'`,
  });
}

function tensorSpec(name: string, t: tf.SymbolicTensor): TensorSpec {
  const layout = LAYOUT_BY_RANK[t.shape.length];
  if (!layout) {
    throw new AekitError('EXPORT_FAILED', `rank ${t.shape.length} is not supported (expected rank 1 to 4)`, {
      where: `tensor '${t.name}'`,
    });
  }
  // Batch is symbolic; any other unknown dim gets a symbolic name of its own.
  const dims = t.shape.map((d, i) => (i === 0 ? BATCH_DIM : d === null ? `${name}_dim${i}` : d));
  return { name, shape: onnxShapeOf(dims), layout, dtype: dtypeOf(t) };
}

function tensorKey(layer: tf.layers.Layer, nodeIndex: number, tensorIndex: number): string {
  return `${layer.name}\u0000${nodeIndex}\u0000${tensorIndex}`;
}

function inferOutputActivation(t: tf.SymbolicTensor): string {
  let tensor = t;
  for (;;) {
    const layer = tensor.sourceLayer;
    if (layer.getClassName() === 'InputLayer') return 'linear';
    const activation = layerActivation(layer);
    if (activation !== undefined) return activation;
    tensor = layer.inboundNodes[tensor.nodeIndex].inputTensors[0];
  }
}

/**
 * Convert a tfjs LayersModel (functional or sequential) to an ONNX model. Image tensors become
 * NCHW (see {@link ARTIFACT_IMAGE_LAYOUT}); the batch dimension is symbolic.
 *
 * @throws AekitError EXPORT_FAILED naming the layer for unsupported layers or settings;
 *   BAD_ARGUMENT for bad options.
 */
export function convertLayersModel(model: tf.LayersModel, opts: ConvertOptions = {}): ConvertedModel {
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new AekitError('BAD_ARGUMENT', `opset ${opset} is not supported (expected ${MIN_OPSET} to ${MAX_OPSET})`, {
      where: 'opset',
    });
  }
  const inputNames = resolveNames('input', model.inputs, opts.inputNames);
  const outputNames = resolveNames('output', model.outputs, opts.outputNames);
  const clash = inputNames.find((n) => outputNames.includes(n));
  if (clash) throw new AekitError('BAD_ARGUMENT', `'${clash}' is both an input and an output name`, { where: 'outputNames' });

  const graph = new OnnxGraphBuilder();
  for (const name of [...inputNames, ...outputNames]) graph.reserve(name);
  const values = new Map<string, Value>();
  model.inputs.forEach((t, i) => {
    values.set(tensorKey(t.sourceLayer, t.nodeIndex, t.tensorIndex), { name: inputNames[i], shape: t.shape, dtype: dtypeOf(t) });
  });

  const visit = (t: tf.SymbolicTensor): Value => {
    const known = values.get(tensorKey(t.sourceLayer, t.nodeIndex, t.tensorIndex));
    if (known) return known;
    const layer = t.sourceLayer;
    const className = layer.getClassName();
    if (className === 'InputLayer') {
      throw new AekitError('EXPORT_FAILED', 'this input layer feeds the graph but is not one of the model inputs', {
        where: `layer '${layer.name}'`,
      });
    }
    const node = layer.inboundNodes[t.nodeIndex];
    const inputs = node.inputTensors.map(visit);
    const outputShapes: TfjsShape[] = node.outputTensors.map((o) => o.shape);
    const names = convertLayer({ layer, className, inputs, outputShapes, graph, scope: sanitizeName(layer.name) });
    node.outputTensors.forEach((o, i) => {
      values.set(tensorKey(layer, t.nodeIndex, i), { name: names[i], shape: o.shape, dtype: 'float32' });
    });
    const value = values.get(tensorKey(t.sourceLayer, t.nodeIndex, t.tensorIndex));
    if (!value) throw new Error(`layer ${layer.name} did not produce tensor ${t.tensorIndex}`);
    return value;
  };

  const outputValues = model.outputs.map(visit);
  // Internal value name -> the public output name it was given.
  const published = new Map<string, string>();
  outputValues.forEach((v, i) => {
    const wanted = outputNames[i];
    const earlier = published.get(v.name);
    // Renaming the producing node's output is free; a graph input passing straight through, or a
    // value already published under another name, needs an Identity node.
    if (earlier === undefined && graph.producedByNode(v.name)) {
      graph.rename(v.name, wanted);
      published.set(v.name, wanted);
    } else {
      graph.identity(earlier ?? v.name, wanted);
    }
  });

  const inputs = model.inputs.map((t, i) => tensorSpec(inputNames[i], t));
  const outputs = model.outputs.map((t, i) => tensorSpec(outputNames[i], t));
  const onnxModel = onnx.ModelProto.create({
    irVersion: irVersionFor(opset),
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'aekit',
    producerVersion: AEKIT_VERSION,
    graph: onnx.GraphProto.create({
      name: sanitizeName(model.name),
      docString: `Converted from tfjs by aekit. Image tensors are ${ARTIFACT_IMAGE_LAYOUT}; dimension '${BATCH_DIM}' is the batch.`,
      node: graph.nodes,
      initializer: graph.initializers,
      input: inputs.map((s) => valueInfo(s.name, s.dtype, s.shape)),
      output: outputs.map((s) => valueInfo(s.name, s.dtype, s.shape)),
    }),
  });
  return {
    model: onnxModel,
    inputs,
    outputs,
    outputActivation: inferOutputActivation(model.outputs[0]),
    weightNames: graph.weightNames,
  };
}
