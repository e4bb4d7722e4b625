/**
 * The divergence guard's errors: a step whose loss or gradient norm is not finite, and an epoch
 * whose figures (validation included) are not.
 */
import { AekitError } from '../core/errors';
import type { StepContext } from '../models';
import type { EpochRecord } from '../run/run-folder';
import type { StepOutcome } from './engines';

/**
 * Divergence seen by validation: a step can be finite and still leave weights that overflow (the
 * last step of an epoch at a huge learning rate), so a non-finite epoch figure stops the run too.
 * @throws AekitError NON_FINITE_LOSS naming the figure
 */
export function checkFiniteRecord(record: EpochRecord, checkpointDir: string): void {
  for (const [split, figures] of [['validation', record.validation], ['training', record.train]] as const) {
    const bad = Object.entries(figures).find(([, value]) => !Number.isFinite(value));
    if (!bad) continue;
    throw new AekitError(
      'NON_FINITE_LOSS',
      `epoch ${record.epoch}: ${split} ${bad[0]} is ${bad[1]}. Training stopped: the model diverged${checkpointDir ? ` (the epoch's weights, in ${checkpointDir}, are not worth resuming from)` : ''}. ` +
        'Common causes: learning rate too high, log-variance explosion (try train.clipNorm), or inputs outside the value range.',
    );
  }
}

/** The error that stops a run at a step whose loss or gradient norm is not finite. */
export function nonFiniteError(ctx: StepContext, outcome: StepOutcome, lastGood: string): AekitError {
  // Earlier phases of this step (e.g. a GAN's discriminator) were already applied.
  const applied = outcome.applied?.length ? ` (after this step's ${outcome.applied.map((phase) => `'${phase}'`).join(', ')} update)` : '';
  return new AekitError(
    'NON_FINITE_LOSS',
    `step ${ctx.step} (epoch ${ctx.epoch + 1}): ${outcome.nonFinite}. Training stopped; the weights before this step${applied} are saved in ${lastGood}. ` +
      'Common causes: learning rate too high, log-variance explosion (try train.clipNorm), or inputs outside the value range.',
  );
}
