/**
 * The layout engine 'ort' keeps each variable in (./engine.ts): tfjs's, or the one its compiled
 * graphs read (convolution kernels in ONNX's layout, ./forward.ts).
 */
import type { tf } from '../../../core/tfjs-backend';
import { transposeArray } from '../../../export/layout';
import type { CompiledPhase } from './compile';
import { inversePermutation } from './forward';

/** The dims of `variable` permuted by `perm` (a VariableIo's layout; none or empty: tfjs's dims). */
export function keptShape(variable: tf.LayerVariable, perm: readonly number[] | undefined): number[] {
  const dims = variable.shape as number[];
  return perm && perm.length > 0 ? perm.map((axis) => dims[axis]) : dims;
}

/**
 * The layout the engine keeps each variable in: tfjs's, or the permutation the compiled graphs
 * read it in (VariableIo.perm: convolution kernels in ONNX's layout). Every phase and batch size
 * compiles the same layers, so a variable has one layout.
 */
export class Layouts {
  private readonly perms = new Map<string, number[]>();

  constructor(compiled: CompiledPhase[]) {
    for (const io of compiled.flatMap((phase) => [...phase.trained, ...phase.others])) {
      const known = this.perms.get(io.variable.name);
      const perm = io.perm ?? [];
      if (known && known.join() !== perm.join()) throw new Error(`engine 'ort': variable '${io.variable.name}' is read in two layouts (${known.join()} and ${perm.join()})`);
      this.perms.set(io.variable.name, perm);
    }
  }

  private permOf(variable: tf.LayerVariable): number[] | undefined {
    const perm = this.perms.get(variable.name);
    return perm && perm.length > 0 ? perm : undefined;
  }

  /** The dims the variable is kept in. */
  shape(variable: tf.LayerVariable): number[] {
    return keptShape(variable, this.permOf(variable));
  }

  /** Values in tfjs layout -> the kept layout. */
  toStored(variable: tf.LayerVariable, values: Float32Array): Float32Array {
    const perm = this.permOf(variable);
    return perm ? transposeArray(values, variable.shape as number[], perm) : values;
  }

  /** Values in the kept layout -> tfjs layout. */
  toTfjs(variable: tf.LayerVariable, values: Float32Array): Float32Array {
    const perm = this.permOf(variable);
    return perm ? transposeArray(values, this.shape(variable), inversePermutation(perm)) : values;
  }
}
