/**
 * Compiles one training phase of a model into a single ONNX graph: batch preparation and the
 * family's loss (its step builder, ./steps/<family>.ts, over the forward pass of ./forward.ts and
 * the losses of ./losses.ts), reverse-mode gradients (./autodiff.ts) and the clipped Adam update
 * (./adam.ts). Its inputs are the batch, the step's noise and scalars (./steps/builder.ts), the
 * weights and the Adam moments; its outputs are the logged loss terms, the gradient norm and the
 * updated weights and moments.
 *
 * Each phase of a multi-phase family (the GANs) is compiled into a graph of its own. Refused with
 * BAD_CONFIG: a family without a step builder (./steps/index.ts) and layer classes outside
 * forward.ts's TRAINABLE_LAYERS (e.g. Dropout).
 */
import type { onnx } from 'onnx-proto';
import { AekitError } from '../../../core/errors';
import type { tf } from '../../../core/tfjs-backend';
import type { FamilyModel } from '../../../models';
import type { AdamSettings } from '../../optim';
import { gradients } from './autodiff';
import { emitAdam, emitGlobalNorm } from './adam';
import { ParameterTable } from './forward';
import { NoGradientError } from './gradient-rule';
import { TrainingGraph } from './graph';
import { stepBuilder } from './steps';
import type { StepGraph, StepInput } from './steps/builder';

/** A variable of the model and where it goes in and out of the graph. */
export interface VariableIo {
  variable: tf.LayerVariable;
  input: string;
  /** Its value after the step (absent for variables the phase only reads). */
  output?: string;
  /**
   * Layout of `input`, its gradient and its output: the tfjs dims permuted by `perm` (absent: tfjs
   * layout). Set only with {@link CompileSettings.kernelLayout} 'onnx'.
   */
  perm?: number[];
}

/** Where the optimizer runs: in the graph (./adam.ts) or on the host (./host-adam.ts). */
export type OptimizerPlacement = 'graph' | 'host';

/** Adam in the graph: per trained parameter, its updated value and its moments' inputs and outputs. */
export interface GraphAdamIo {
  kind: 'graph';
  /** Scalars lr / (1 - beta1^t) and 1 - beta2^t. */
  lrOverC1: string;
  c2: string;
  slots: { output: string; m: { input: string; output: string }; v: { input: string; output: string } }[];
}

/** Adam on the host: the graph outputs each trained parameter's gradient. */
export interface HostAdamIo {
  kind: 'host';
  grads: string[];
}

/** A compiled phase: the ONNX model and the meaning of its inputs and outputs. */
export interface CompiledPhase {
  phase: string;
  model: onnx.ModelProto;
  stepInputs: StepInput[];
  /** Trained parameters in the order of the phase's `variables()` (the checkpoint order). */
  trained: VariableIo[];
  /** The optimizer's inputs and outputs, in the order of `trained`. */
  optimizer: GraphAdamIo | HostAdamIo;
  /** Other variables: read only, or updated without gradients (BatchNorm moving statistics). */
  others: VariableIo[];
  /** Logged loss terms (name -> graph output), in the order the tfjs phase reports them. */
  terms: { name: string; output: string }[];
  gradNorm: string;
  /** The step builder's `separable` (./steps/builder.ts LossGraph): loss and terms are batch means of per-image values. */
  separable: boolean;
}

/** Settings of the compilation that come from the run config. */
export interface CompileSettings {
  batchSize: number;
  adam: AdamSettings;
  clipNorm?: number;
  /** Default 'graph'. */
  optimizer?: OptimizerPlacement;
  /**
   * Layout of the graph inputs of convolution kernels: 'tfjs' (default; the graph transposes them
   * each step) or 'onnx' (the caller keeps them in ONNX's layout, VariableIo.perm).
   */
  kernelLayout?: 'tfjs' | 'onnx';
}

/**
 * Compile every training phase of a model.
 *
 * @throws AekitError BAD_CONFIG when the family, a layer or an operator is not supported
 */
export function compilePhases(model: FamilyModel, settings: CompileSettings): CompiledPhase[] {
  const builder = stepBuilder(model.config.family);
  const layerVariables = new Map<string, tf.LayerVariable>();
  for (const part of Object.values(model.parts)) for (const w of part.weights) layerVariables.set(w.name, w);
  return model.phases.map((phase) => {
    const g = new TrainingGraph();
    const params = new ParameterTable(g, settings.kernelLayout === 'onnx');
    const ctx: StepGraph = { g, params, model, batchSize: settings.batchSize, stepInputs: [] };
    const { loss, terms, separable = false } = builder(ctx, phase.name);
    const trainedVariables = phase.variables().map((v) => {
      const lv = layerVariables.get(v.name);
      if (!lv) throw new Error(`engine 'ort': trainable variable '${v.name}' is not a weight of any part`);
      return lv;
    });
    const trainedInputs = trainedVariables.map((v) => params.input(v));
    let grads: string[];
    try {
      grads = gradients(g, loss, trainedInputs);
    } catch (error) {
      if (error instanceof NoGradientError) throw new AekitError('BAD_CONFIG', `engine 'ort' cannot train this model yet: ${error.message}; use --engine tfjs`, { where: 'train.engine' });
      throw error;
    }
    const trainedNames = new Set(trainedVariables.map((v) => v.name));
    const layoutOf = (variable: tf.LayerVariable) => {
      const perm = params.bindings.get(variable.name)?.perm;
      return perm ? { perm } : {};
    };
    const trained: VariableIo[] = trainedVariables.map((variable, i) => ({ variable, input: trainedInputs[i], ...layoutOf(variable) }));
    let optimizer: GraphAdamIo | HostAdamIo;
    let norm: string;
    if (settings.optimizer === 'host') {
      norm = emitGlobalNorm(g, grads);
      optimizer = { kind: 'host', grads };
    } else {
      const lrOverC1 = g.input('adam:lr_over_c1', 'float32', []);
      const c2 = g.input('adam:c2', 'float32', []);
      const slots = trainedVariables.map((v, i) => ({
        param: trainedInputs[i],
        grad: grads[i],
        m: g.input(`adam:m:${v.name}`, 'float32', g.shape(trainedInputs[i])),
        v: g.input(`adam:v:${v.name}`, 'float32', g.shape(trainedInputs[i])),
      }));
      const emitted = emitAdam(g, slots, settings.adam, { lrOverC1, c2 }, settings.clipNorm);
      norm = emitted.norm;
      optimizer = {
        kind: 'graph',
        lrOverC1,
        c2,
        slots: emitted.updates.map((u, i) => ({ output: u.param, m: { input: slots[i].m, output: u.m }, v: { input: slots[i].v, output: u.v } })),
      };
    }
    const others: VariableIo[] = [...params.bindings.values()]
      .filter((b) => !trainedNames.has(b.variable.name))
      .map((b) => ({ variable: b.variable, input: b.input, output: b.updated, ...(b.perm ? { perm: b.perm } : {}) }));

    // Graph outputs must be distinct values: a term that is another term (ae: total is the
    // reconstruction) is read from the first output carrying it.
    const outputs: string[] = [];
    const output = (value: string) => {
      if (!outputs.includes(value)) outputs.push(value);
      return value;
    };
    const termOutputs = terms.map((t) => ({ name: t.name, output: output(t.value) }));
    output(norm);
    if (optimizer.kind === 'graph') for (const slot of optimizer.slots) [slot.output, slot.m.output, slot.v.output].forEach(output);
    // A gradient can coincide with another output only in degenerate graphs (an unused parameter
    // shares the zero constant); an Identity keeps every gradient its own output.
    else optimizer.grads = optimizer.grads.map((grad) => (outputs.includes(grad) || g.inputs.includes(grad) ? output(g.node('Identity', [grad], 'grad/out')) : output(grad)));
    for (const o of others) if (o.output) output(o.output);
    return {
      phase: phase.name,
      model: g.toModel(outputs, `aekit_${model.config.family}_${phase.name}`),
      stepInputs: ctx.stepInputs,
      trained,
      optimizer,
      others,
      terms: termOutputs,
      gradNorm: norm,
      separable,
    };
  });
}
