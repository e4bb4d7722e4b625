import { strict as assert } from 'node:assert';
import { Rng } from '../../../src/core/rng';
import { fitGaussian, fitGmm, logLikelihood, parseDistribution, sampleCodes, standardNormal } from '../../../src/eval/latent';

/** n codes of size 2 from N(mean, L L^T) with L = [[a, 0], [b, c]]. */
function gaussianCodes(n: number, mean: [number, number], [a, b, c]: [number, number, number], rng: Rng): Float32Array {
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const [e1, e2] = [rng.normal(), rng.normal()];
    out[i * 2] = mean[0] + a * e1;
    out[i * 2 + 1] = mean[1] + b * e1 + c * e2;
  }
  return out;
}

function moments(codes: Float32Array): { mean: [number, number]; cov: [number, number, number] } {
  const n = codes.length / 2;
  let [m0, m1] = [0, 0];
  for (let i = 0; i < n; i++) [m0, m1] = [m0 + codes[i * 2] / n, m1 + codes[i * 2 + 1] / n];
  let [s00, s01, s11] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const [d0, d1] = [codes[i * 2] - m0, codes[i * 2 + 1] - m1];
    [s00, s01, s11] = [s00 + (d0 * d0) / n, s01 + (d0 * d1) / n, s11 + (d1 * d1) / n];
  }
  return { mean: [m0, m1], cov: [s00, s01, s11] };
}

describe('latent distributions', () => {
  it('fits one Gaussian: the codes’ mean and covariance, and samples with those moments', () => {
    // Covariance L L^T = [[4, 2], [2, 1 + 0.25]].
    const codes = gaussianCodes(4000, [1, -2], [2, 1, 0.5], Rng.derive(1, 'g'));
    const fitted = fitGaussian(codes, 2);
    const data = moments(codes);
    const [c] = fitted.components;
    assert.deepEqual(c.mean.map((v) => v.toFixed(6)), data.mean.map((v) => v.toFixed(6)));
    assert.ok(Math.abs(c.covariance![0][1] - data.cov[1]) < 1e-9 && Math.abs(c.covariance![0][0] - data.cov[0] - 1e-6) < 1e-9);
    const sampled = moments(sampleCodes(fitted, 20000, 3));
    assert.ok(Math.abs(sampled.mean[0] - 1) < 0.06 && Math.abs(sampled.mean[1] + 2) < 0.06, `sample mean ${sampled.mean}`);
    assert.ok(Math.abs(sampled.cov[0] - 4) < 0.2 && Math.abs(sampled.cov[1] - 2) < 0.12 && Math.abs(sampled.cov[2] - 1.25) < 0.08, `sample covariance ${sampled.cov}`);
    // The fitted Gaussian explains its own codes better than a standard normal does.
    assert.ok(fitted.fit.logLikelihood > logLikelihood(standardNormal(2), codes));
  });

  it('fits a GMM by EM: separated clusters found with their weights, likelihood never decreasing, seeded', () => {
    const rng = Rng.derive(2, 'gmm');
    const a = gaussianCodes(600, [-6, 0], [1, 0, 1], rng);
    const b = gaussianCodes(200, [6, 3], [0.5, 0, 0.5], rng);
    const codes = new Float32Array([...a, ...b]);
    const gmm = fitGmm(codes, 2, { components: 2, seed: 5 });
    const [big, small] = [...gmm.components].sort((x, y) => y.weight - x.weight);
    assert.ok(Math.abs(big.weight - 0.75) < 0.01 && Math.abs(small.weight - 0.25) < 0.01, `weights ${big.weight} ${small.weight}`);
    assert.ok(Math.hypot(big.mean[0] + 6, big.mean[1]) < 0.2 && Math.hypot(small.mean[0] - 6, small.mean[1] - 3) < 0.2);
    const history = gmm.fit.history!;
    for (let i = 1; i < history.length; i++) assert.ok(history[i] >= history[i - 1] - 1e-9, `EM decreased at ${i}: ${history}`);
    assert.equal(gmm.fit.converged, true);
    // Two components fit two clusters better than one Gaussian.
    assert.ok(gmm.fit.logLikelihood > fitGaussian(codes, 2).fit.logLikelihood + 0.5);
    assert.deepEqual(fitGmm(codes, 2, { components: 2, seed: 5 }), gmm);
    // Samples fall into the clusters in proportion to the weights.
    const drawn = sampleCodes(gmm, 4000, 9);
    let right = 0;
    for (let i = 0; i < 4000; i++) if (drawn[i * 2] > 0) right++;
    assert.ok(Math.abs(right / 4000 - 0.25) < 0.03, `share in the small cluster ${right / 4000}`);
    const diagonal = fitGmm(codes, 2, { components: 2, covariance: 'diagonal', seed: 5 });
    assert.ok(diagonal.components.every((c) => c.variance?.length === 2 && c.covariance === undefined));
  });

  it('rejects what is not a distribution of the right size, and codes that do not divide', () => {
    assert.throws(() => parseDistribution({ hello: 1 }, 'x.json'), /not an aekit latent distribution/);
    assert.throws(() => parseDistribution(standardNormal(3), 'x.json', 2), /size 3, the encoder's are 2/);
    assert.throws(() => fitGaussian(new Float32Array(5), 2), /not whole codes of size 2/);
    assert.throws(() => fitGmm(new Float32Array(6), 2, { components: 4 }), /at least 4 codes/);
  });
});
