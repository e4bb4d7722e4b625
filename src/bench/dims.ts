/**
 * Sizes for the symbolic dimensions of a model's inputs, and what batch a model can run at.
 *
 * Tools name the batch dimension differently: aekit `batch`, PyTorch exports whatever the user put
 * in `dynamic_axes` (`N`, `batch_size`), tf2onnx `unk__123`, others leave it unnamed. A dimension is
 * bound to the benchmark's batch size when its name is one of {@link BATCH_DIM_NAMES} (at any axis)
 * or, whatever its name, when it is the first axis of an input; `--dim name=size` sizes any other
 * symbolic dimension (and overrides both rules). A model none of whose inputs has a batch-bound
 * dimension runs at one batch only: the first axis of its first input (see {@link batchPlan}).
 */
import { AekitError } from '../core/errors';

/** An input's shape as the graph declares it: numbers, names of symbolic dims, or null (unnamed and unsized). */
export type DeclaredShape = readonly (number | string | null)[];

/** A graph input for binding: its name and declared shape. */
export interface DeclaredInput {
  name: string;
  shape: DeclaredShape;
}

/**
 * Names of symbolic dimensions bound to the batch size at any axis, compared case-insensitively:
 * aekit's own `batch` and the names other exporters and model zoos use most.
 */
export const BATCH_DIM_NAMES: readonly string[] = Object.freeze(['batch', 'batch_size', 'batchsize', 'batch_dim', 'n', 'b', 'bs']);

const BATCH_NAME_SET = new Set(BATCH_DIM_NAMES);

/** Whether a symbolic dimension's name marks the batch ({@link BATCH_DIM_NAMES}). */
export function isBatchDimName(name: string): boolean {
  return BATCH_NAME_SET.has(name.toLowerCase());
}

/** Whether an axis of a declared shape is bound to the batch size (given the `--dim` sizes). */
function isBatchAxis(d: number | string | null, axis: number, dims: Readonly<Record<string, number>>): boolean {
  if (typeof d === 'number' && d > 0) return false;
  if (typeof d === 'string' && d !== '' && Object.prototype.hasOwnProperty.call(dims, d)) return false;
  if (typeof d === 'string' && d !== '' && isBatchDimName(d)) return true;
  return axis === 0;
}

/** A dimension the benchmark cannot size, described for an error message. */
function unsizable(input: DeclaredInput, axis: number, d: string | null): string {
  const shape = `[${input.shape.map((x) => (x === null ? '?' : x)).join(', ')}]`;
  return d
    ? `input '${input.name}' ${shape} has symbolic dimension '${d}' at axis ${axis}, which is not the batch; give its size with --dim ${d}=<size>`
    : `input '${input.name}' ${shape} has an unnamed dimension of unknown size at axis ${axis}, which is not the batch; the benchmark cannot choose its size`;
}

/**
 * The concrete shape of an input at a batch size: fixed dims as declared, batch-bound dims set to
 * `batch`, other symbolic dims from `dims`.
 * @throws AekitError BAD_ARGUMENT naming the input, axis and dimension when one cannot be sized.
 */
export function bindShape(input: DeclaredInput, batch: number, dims: Readonly<Record<string, number>> = {}, where?: string): number[] {
  return input.shape.map((d, axis) => {
    if (typeof d === 'number' && d > 0) return d;
    if (typeof d === 'string' && d !== '' && Object.prototype.hasOwnProperty.call(dims, d)) return dims[d];
    if (isBatchAxis(d, axis, dims)) return batch;
    throw new AekitError('BAD_ARGUMENT', unsizable(input, axis, typeof d === 'string' && d !== '' ? d : null), { where });
  });
}

/**
 * Check `--dim` sizes against the model: each must be a positive whole number naming a symbolic
 * dimension of some input.
 * @throws AekitError BAD_ARGUMENT naming the flag's bad entry and the model's symbolic dimensions.
 */
export function checkDimSizes(inputs: readonly DeclaredInput[], dims: Readonly<Record<string, number>>, where?: string): void {
  const symbolic = new Map<string, string>();
  for (const input of inputs) {
    input.shape.forEach((d, axis) => {
      if (typeof d === 'string' && d !== '' && !symbolic.has(d)) symbolic.set(d, `${d} (input '${input.name}' axis ${axis})`);
    });
  }
  for (const [name, size] of Object.entries(dims)) {
    if (!Number.isInteger(size) || size < 1) throw new AekitError('BAD_ARGUMENT', `expected a positive whole size for '${name}', found ${size}`, { where: '--dim' });
    if (!symbolic.has(name)) {
      const known = symbolic.size ? `its symbolic dimensions are: ${[...symbolic.values()].join(', ')}` : 'it has no symbolic dimensions';
      throw new AekitError('BAD_ARGUMENT', `no input of the model has a symbolic dimension '${name}'; ${known}`, { where: where ? `--dim (${where})` : '--dim' });
    }
  }
}

/** A batch size the model cannot run, and why. */
export interface RefusedBatch {
  batch: number;
  reason: string;
}

/** Which of the batch sizes asked for the model can run. */
export interface BatchPlan {
  /** Batch sizes to measure, in the order asked. */
  batches: number[];
  /** Batch sizes asked for that the model cannot run (a fixed batch dimension), with the reason. */
  refused: RefusedBatch[];
  /** The one batch the model runs at when no input has a batch-bound dimension; null when it takes any. */
  fixedBatch: number | null;
  /** Why the batch is fixed: the input and shape that fix it (absent when it is not). */
  fixedBy?: string;
}

/**
 * The batch sizes a model runs at. When some input has a batch-bound dimension, every size. When
 * none has, the model runs one batch only, the first axis of its first input (1 for scalar inputs):
 * `asked` sizes other than that one are refused with the reason, and when `asked` is undefined
 * (no `--batch`), that batch is the one measured.
 * @throws AekitError BAD_ARGUMENT when the model cannot run any of the sizes asked for.
 */
export function batchPlan(inputs: readonly DeclaredInput[], asked: readonly number[] | undefined, defaults: readonly number[], dims: Readonly<Record<string, number>> = {}, where?: string): BatchPlan {
  const batched = inputs.some((input) => input.shape.some((d, axis) => isBatchAxis(d, axis, dims)));
  if (batched || inputs.length === 0) return { batches: [...(asked ?? defaults)], refused: [], fixedBatch: null };
  const first = inputs.find((input) => input.shape.length > 0);
  const fixed = first ? bindShape(first, 1, dims, where)[0] : 1;
  const fixedBy = first
    ? `input '${first.name}' has the fixed shape [${bindShape(first, 1, dims, where).join(', ')}] and no input has a symbolic batch dimension`
    : 'its inputs are scalars';
  if (asked === undefined) return { batches: [fixed], refused: [], fixedBatch: fixed, fixedBy };
  const reason = (batch: number) => `the model runs ${fixed} image${fixed === 1 ? '' : 's'} at a time (${fixedBy}), not ${batch}; bench it with --batch ${fixed}, or export it with a symbolic batch dimension`;
  const refused = asked.filter((b) => b !== fixed).map((batch) => ({ batch, reason: reason(batch) }));
  const batches = asked.filter((b) => b === fixed);
  if (batches.length === 0) throw new AekitError('BAD_ARGUMENT', `no batch size asked for can run: ${refused[0].reason}`, { where: where ? `--batch (${where})` : '--batch' });
  return { batches, refused, fixedBatch: fixed, fixedBy };
}
