import type { tf } from '../../../../core/tfjs-backend';
import type { CycleganConfig } from '../../../../models/cyclegan';
import { applyModel } from '../forward';
import { leastSquaresGanLoss, meanAbsoluteError } from '../losses';
import { batchImages } from './builder';
import type { StepBuilder } from './builder';

/**
 * cyclegan (src/models/cyclegan.ts): the generators' phase (LSGAN + cycle + identity L1), then the
 * discriminators' (halved LSGAN). Networks are applied in exactly the order CycleGan applies them,
 * because each training-mode application moves BatchNorm's running statistics.
 */
export const cycleganStep: StepBuilder = (ctx, phase) => {
  const { g, params } = ctx;
  const model = ctx.model as unknown as { config: CycleganConfig; parts: Record<'generatorAB' | 'generatorBA' | 'discriminatorA' | 'discriminatorB', tf.LayersModel> };
  const { generatorAB, generatorBA, discriminatorA, discriminatorB } = model.parts;
  const apply = (network: tf.LayersModel, x: string) => applyModel(g, network, [x], params)[0];
  const a = batchImages(ctx, 'A');
  const b = batchImages(ctx, 'B');
  if (phase === 'generators') {
    const { lambdaCycle, lambdaIdentity } = model.config;
    const fakeB = apply(generatorAB, a);
    const fakeA = apply(generatorBA, b);
    const adversarial = g.node('Add', [leastSquaresGanLoss(g, apply(discriminatorB, fakeB), 1), leastSquaresGanLoss(g, apply(discriminatorA, fakeA), 1)], 'loss/adversarial');
    const cycle = g.node('Add', [meanAbsoluteError(g, a, apply(generatorBA, fakeB)), meanAbsoluteError(g, b, apply(generatorAB, fakeA))], 'loss/cycle');
    let total = g.node('Add', [adversarial, g.node('Mul', [g.scalar(lambdaCycle), cycle], 'loss/cycle_weighted')], 'loss/total');
    const terms = [
      { name: 'adversarial', value: adversarial },
      { name: 'cycle', value: cycle },
    ];
    if (lambdaIdentity > 0) {
      const identity = g.node('Add', [meanAbsoluteError(g, b, apply(generatorAB, b)), meanAbsoluteError(g, a, apply(generatorBA, a))], 'loss/identity');
      total = g.node('Add', [total, g.node('Mul', [g.scalar(lambdaCycle * lambdaIdentity), identity], 'loss/identity_weighted')], 'loss/total');
      terms.push({ name: 'identity', value: identity });
    }
    return { loss: total, terms: [{ name: 'total', value: total }, ...terms] };
  }
  if (phase !== 'discriminators') throw new Error(`engine 'ort': cyclegan has no phase '${phase}'`);
  const fakeB = apply(generatorAB, a);
  const fakeA = apply(generatorBA, b);
  const lsgan = (d: tf.LayersModel, real: string, fake: string) =>
    g.node('Mul', [g.scalar(0.5), g.node('Add', [leastSquaresGanLoss(g, apply(d, real), 1), leastSquaresGanLoss(g, apply(d, fake), 0)], 'lsgan/sum')], 'lsgan/half');
  const discriminatorALoss = lsgan(discriminatorA, a, fakeA);
  const discriminatorBLoss = lsgan(discriminatorB, b, fakeB);
  const total = g.node('Add', [discriminatorALoss, discriminatorBLoss], 'loss/total');
  return { loss: total, terms: [{ name: 'total', value: total }, { name: 'discriminatorA', value: discriminatorALoss }, { name: 'discriminatorB', value: discriminatorBLoss }] };
};
