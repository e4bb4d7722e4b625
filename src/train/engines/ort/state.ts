/**
 * Where the ort engine keeps a run's tensors between steps (weights, BatchNorm statistics, Adam
 * moments, host gradients), independent of any one compiled step: the graphs compiled for other
 * batch sizes (the last, smaller batch of an epoch) read and write the same tensors.
 *
 * Tensors the graph updates (BatchNorm statistics, and with Adam in the graph also parameters and
 * moments) have two JS buffers: the step reads one (inputs wrap JS memory without a copy) and
 * writes the other (pre-allocated outputs), then they swap. A step whose loss or gradient norm is
 * not finite is simply not swapped in, so the last good values are kept without a copy.
 */
import type { HostTensor } from '../../../artifact/runtime';
import type { ArenaSlice } from './host-adam';

/** A tensor of the engine's state: what the next step reads, its values, and restoring them. */
export interface StateTensor {
  readonly shape: readonly number[];
  readonly current: HostTensor;
  /** A copy of the current values. */
  values(): Float32Array;
  set(values: Float32Array): void;
}

/** Two float32 buffers of one tensor: `current` is read by the next step, `spare` written by it. */
export class DoubleBuffer implements StateTensor {
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
export class ArenaTensor implements StateTensor {
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
export interface GraphOptimizerState {
  kind: 'graph';
  moments: { m: DoubleBuffer; v: DoubleBuffer }[];
}

/** Adam state of a phase whose optimizer runs on the host, with the arena the graph writes gradients into. */
export interface HostOptimizerState {
  kind: 'host';
  moments: { m: ArenaTensor; v: ArenaTensor }[];
  grads: ArenaTensor[];
}

/** Elements of a tensor of `shape` (unknown dimensions count as 1). */
export function elements(shape: readonly (number | null)[]): number {
  return shape.reduce((a: number, b) => a * (b ?? 1), 1);
}

/** A float32 scalar. */
export function scalar(value: number): HostTensor {
  return { dtype: 'float32', data: Float32Array.of(value), dims: [] };
}
