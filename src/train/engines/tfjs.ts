/**
 * The tfjs engine: each phase's loss differentiated by tfjs's tape on the selected tfjs backend,
 * its gradients clipped by global norm and applied by ../optim.ts's Adam (one per phase). The
 * tfjs model's variables are the weights, so there is nothing to synchronise.
 */
import { tf } from '../../core/tfjs-backend';
import type { StepContext } from '../../models';
import type { AdamState } from '../../run/checkpoint';
import { toTrainBatch } from '../data';
import { Adam, globalNorm } from '../optim';
import type { EngineSetup, HostBatch, StepOutcome, TrainingEngine } from './types';

/** Trains with tfjs's own gradients and a tfjs Adam per phase. */
export class TfjsEngine implements TrainingEngine {
  readonly name = 'tfjs' as const;
  private readonly optimizers: Adam[];

  /**
   * One Adam per phase of `setup.model`, continuing from `setup.savedOptimizers` (resume).
   * `detail` is for the start line (why 'auto' picked this engine).
   */
  constructor(
    private readonly setup: EngineSetup,
    readonly detail?: string,
  ) {
    this.optimizers = setup.model.phases.map((phase) => {
      const adam = new Adam(phase.variables(), setup.adam);
      const saved = setup.savedOptimizers[phase.name];
      if (saved) adam.setState(saved);
      return adam;
    });
  }

  async step(batch: HostBatch, ctx: StepContext, learningRate: number): Promise<StepOutcome> {
    const { model, shape, clipNorm } = this.setup;
    const terms: Record<string, number> = {};
    const applied: string[] = [];
    for (const [p, phase] of model.phases.entries()) {
      const prefix = model.phases.length > 1 ? `${phase.name}.` : '';
      const variables = phase.variables();
      const { names, termValues, grads, norm } = tf.tidy(() => {
        const b = toTrainBatch(batch, shape);
        let kept: Record<string, tf.Scalar> = {};
        const result = tf.variableGrads(() => {
          const loss = phase.loss(b, ctx);
          kept = loss.terms;
          for (const t of Object.values(kept)) tf.keep(t);
          return loss.total;
        }, variables);
        const gradList = variables.map((v) => result.grads[v.name]);
        const names = Object.keys(kept);
        const termValues = tf.stack(names.map((n) => kept[n]));
        tf.dispose(Object.values(kept));
        return { names, termValues, grads: gradList, norm: globalNorm(gradList) };
      });
      const [values, normValue] = await Promise.all([termValues.data(), norm.data()]);
      termValues.dispose();
      norm.dispose();
      const badTerm = names.find((_, i) => !Number.isFinite(values[i]));
      if (badTerm !== undefined || !Number.isFinite(normValue[0])) {
        tf.dispose(grads);
        const what = badTerm !== undefined ? `loss term '${prefix}${badTerm}' is ${values[names.indexOf(badTerm)]}` : `gradient norm of phase '${phase.name}' is ${normValue[0]}`;
        return { terms, nonFinite: what, applied };
      }
      const scale = clipNorm !== undefined && normValue[0] > clipNorm ? clipNorm / normValue[0] : 1;
      this.optimizers[p].apply(grads, learningRate, scale);
      tf.dispose(grads);
      applied.push(phase.name);
      names.forEach((name, i) => (terms[`${prefix}${name}`] = values[i]));
      terms[`${prefix}gradNorm`] = normValue[0];
    }
    return { terms };
  }

  async syncModel(): Promise<void> {
    // The tfjs model's variables are what the optimizers update.
  }

  async optimizerStates(): Promise<{ phase: string; state: AdamState }[]> {
    return Promise.all(this.setup.model.phases.map(async (phase, i) => ({ phase: phase.name, state: await this.optimizers[i].getState() })));
  }

  async dispose(): Promise<void> {
    this.optimizers.forEach((o) => o.dispose());
  }
}
