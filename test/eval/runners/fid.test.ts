import { strict as assert } from 'node:assert';
import { FID_RELIABLE_COUNT, featureNetworkFile, smallSampleWarning } from '../../../src/eval/runners/fid';
import { SHIPPED_FEATURE_NETWORKS } from '../../../src/eval/features/shipped';

describe('FID runner: which network, and when FID is not to be trusted', () => {
  it('the network: --features, else its alias --classifier, else the shipped one for the shape', () => {
    const gray = { height: 28, width: 28, channels: 1 };
    assert.equal(featureNetworkFile({ features: 'a.onnx', classifier: 'b.onnx' }, gray), 'a.onnx');
    assert.equal(featureNetworkFile({ classifier: 'b.onnx' }, gray), 'b.onnx');
    assert.equal(featureNetworkFile({}, gray), SHIPPED_FEATURE_NETWORKS[0].file);
    assert.equal(featureNetworkFile({}, { height: 64, width: 64, channels: 3 }), undefined);
  });

  it(`warns below ${FID_RELIABLE_COUNT} images per side or below the feature dimension, with the real-vs-real FID at that n`, () => {
    assert.equal(smallSampleWarning(10_000, 2048, 0.8, true), undefined);
    assert.equal(smallSampleWarning(FID_RELIABLE_COUNT, 128, 0.8, true), undefined);
    assert.match(smallSampleWarning(1999, 128, 3.21, true)!, /^FID at n = 1999 images per side \(fewer than 2,000\) .* score 3\.21 at this n .*KID \(reported beside it\) is unbiased/);
    assert.match(smallSampleWarning(100, 2048, 123.456, false)!, /\(fewer than 2,000; fewer than the 2048 feature dimensions: singular covariances\).* score 123\.46 at this n.*KID \(--kid\) is unbiased/);
    assert.match(smallSampleWarning(3000, 4096, 0.01234, false)!, /^FID at n = 3000 images per side \(fewer than the 4096 feature dimensions: singular covariances\).* score 0\.0123 at/);
  });
});
