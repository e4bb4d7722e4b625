/**
 * Adam with global-norm gradient clipping, written over tfjs ops rather than `tf.train.adam`
 * because we need three things tfjs's optimizer does not give cleanly: a learning rate the
 * schedule can change between steps, state that checkpoints save and restore exactly, and the
 * exact update rule of PyTorch's `torch.optim.Adam` (eps added after the square root of the
 * bias-corrected second moment), so runs compare with PyTorch and with the ort engine.
 */
import { tf } from '../core/tfjs-backend';
import type { AdamState } from '../run/checkpoint';

export type { AdamState };

/** Adam hyper-parameters (PyTorch's defaults). */
export interface AdamSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const ADAM_DEFAULTS: AdamSettings = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** Adam over a fixed list of variables. */
export class Adam {
  private step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    private readonly variables: readonly tf.Variable[],
    private readonly settings: AdamSettings = ADAM_DEFAULTS,
  ) {
    this.m = variables.map((w) => tf.variable(tf.zerosLike(w), false));
    this.v = variables.map((w) => tf.variable(tf.zerosLike(w), false));
  }

  /** Number of updates applied so far. */
  get iterations(): number {
    return this.step;
  }

  /**
   * Apply one update. `grads` are in the order of the variables; `scale` multiplies them first
   * (clipping). Runs inside its own tidy scope.
   */
  apply(grads: readonly tf.Tensor[], learningRate: number, scale = 1): void {
    this.step += 1;
    const { beta1, beta2, epsilon } = this.settings;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      grads.forEach((rawGrad, i) => {
        const g = scale === 1 ? rawGrad : tf.mul(rawGrad, scale);
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const denominator = tf.add(tf.sqrt(tf.div(v, correction2)), epsilon);
        const update = tf.div(tf.mul(m, learningRate / correction1), denominator);
        this.variables[i].assign(tf.sub(this.variables[i], update));
      });
    });
  }

  /** Copy the state out (for checkpoints). */
  async getState(): Promise<AdamState> {
    const moments = await Promise.all(
      this.m.map(async (m, i) => ({
        m: (await m.data()) as Float32Array,
        v: (await this.v[i].data()) as Float32Array,
        shape: m.shape,
      })),
    );
    return { step: this.step, moments };
  }

  /** Restore a saved state; shapes must match the variables. */
  setState(state: AdamState): void {
    if (state.moments.length !== this.m.length) {
      throw new Error(`optimizer state has ${state.moments.length} moment pairs, the model has ${this.m.length} variables`);
    }
    state.moments.forEach((saved, i) => {
      const expected = this.m[i].shape.join('x');
      if (saved.shape.join('x') !== expected) throw new Error(`optimizer moment ${i} has shape ${saved.shape.join('x')}, expected ${expected}`);
      this.m[i].assign(tf.tensor(saved.m, saved.shape));
      this.v[i].assign(tf.tensor(saved.v, saved.shape));
    });
    this.step = state.step;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

/** Global L2 norm of a list of gradients (one sync). */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/** Learning rate of an exponential schedule: lr0 * gamma^epoch (PyTorch's ExponentialLR, stepped per epoch). */
export function exponentialLr(initial: number, gamma: number, epoch: number): number {
  return initial * gamma ** epoch;
}

/** KL weight with linear warm-up over `warmupSteps` steps (0 = no warm-up). */
export function warmedUpBeta(beta: number, warmupSteps: number, step: number): number {
  return warmupSteps > 0 ? beta * Math.min(1, step / warmupSteps) : beta;
}
