import { strict as assert } from 'node:assert';
import { Rng } from '../../../src/core/rng';
import { estimateElbo, logMeanExp } from '../../../src/eval/metrics/elbo';

/**
 * A linear-Gaussian model with a closed-form likelihood: z ~ N(0, 1), x | z ~ N(z, 1), so
 * p(x) = N(0, 2) and the exact posterior is N(x/2, 1/2). The "decoder" is the identity.
 */
const LOG_2PI = Math.log(2 * Math.PI);
const logPx = (x: number) => -0.5 * (LOG_2PI + Math.log(2)) - (x * x) / 4;
const identity = async (z: Float32Array) => Float32Array.from(z);

function images(count: number): Float32Array {
  return new Rng(3).normalArray(count).map((v) => v * Math.SQRT2);
}

function meanOf(xs: Float32Array, f: (x: number) => number): number {
  return xs.reduce((s, x) => s + f(x), 0) / xs.length;
}

describe('eval/metrics: ELBO and IWAE bound', () => {
  const count = 200;
  const x = images(count);
  const gaussian = { kind: 'gaussian' as const, sigma: 1 };

  it('with the exact posterior, every importance weight is log p(x): IWAE = log p(x) exactly', async () => {
    const estimate = await estimateElbo({
      images: x,
      count,
      mu: x.map((v) => v / 2),
      logvar: new Float32Array(count).fill(Math.log(0.5)),
      latentSize: 1,
      likelihood: gaussian,
      samples: 16,
      seed: 0,
      decode: identity,
    });
    const exact = meanOf(x, logPx);
    assert.ok(Math.abs(estimate.iwae - exact) < 1e-5, `${estimate.iwae} vs ${exact}`);
    // The ELBO's reconstruction term is a Monte-Carlo mean: it matches within its noise.
    assert.ok(Math.abs(estimate.elbo - exact) < 0.05, `${estimate.elbo} vs ${exact}`);
    // KL(N(x/2, 1/2) || N(0, 1)) = 0.5 (0.5 + x^2/4 - 1 - log 0.5), analytically.
    const kl = meanOf(x, (v) => 0.5 * (0.5 + (v * v) / 4 - 1 - Math.log(0.5)));
    assert.ok(Math.abs(estimate.kl - kl) < 1e-6);
  });

  it('with the prior as posterior, ELBO < IWAE(K=64) <= log p(x), and more samples tighten the bound', async () => {
    const common = { images: x, count, mu: new Float32Array(count), logvar: new Float32Array(count), latentSize: 1, likelihood: gaussian, seed: 1, decode: identity };
    const k1 = await estimateElbo({ ...common, samples: 1 });
    const k64 = await estimateElbo({ ...common, samples: 64 });
    const exact = meanOf(x, logPx);
    // E_q log p(x|z) with q = N(0, 1) is -0.5 (log 2 pi + x^2 + 1), KL = 0.
    const elbo = meanOf(x, (v) => -0.5 * (LOG_2PI + v * v + 1));
    assert.equal(k64.kl, 0);
    assert.ok(Math.abs(k64.elbo - elbo) < 0.05, `${k64.elbo} vs ${elbo}`);
    assert.ok(k64.elbo < k64.iwae && k64.iwae < exact + 0.01, `${k64.elbo} < ${k64.iwae} <= ${exact}`);
    assert.ok(k1.iwae < k64.iwae);
  });

  it('is independent of batching and seeded', async () => {
    const common = { images: x, count, mu: x.map((v) => v / 3), logvar: new Float32Array(count).fill(-1), latentSize: 1, likelihood: gaussian, samples: 8, seed: 5, decode: identity };
    const a = await estimateElbo({ ...common, rowsPerCall: 8 });
    const b = await estimateElbo({ ...common, rowsPerCall: 1000 });
    assert.deepEqual(a, b);
  });

  it('logMeanExp is stable for large weights', () => {
    assert.ok(Math.abs(logMeanExp([1000, 1000]) - 1000) < 1e-12);
    assert.ok(Math.abs(logMeanExp([0, Math.log(3)]) - Math.log(2)) < 1e-12);
  });
});
