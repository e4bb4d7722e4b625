/** The web module's label feed: one-hot rows for conditional artifacts, a clear refusal otherwise. */
import { strict as assert } from 'node:assert';
import { labelFeed } from '../../../src/serve/web/tensors';

describe('serve/web: labelFeed', () => {
  const label = { input: 'label', numClasses: 3, encoding: 'one-hot' as const };

  it('gives one-hot rows for a conditional artifact, one class for all rows or one per row', () => {
    assert.deepEqual(labelFeed(label, 2, 2, 'decoder'), { input: 'label', data: Float32Array.from([0, 0, 1, 0, 0, 1]), dims: [2, 3] });
    assert.deepEqual(labelFeed(label, [0, 1], 2, 'encoder')?.data, Float32Array.from([1, 0, 0, 0, 1, 0]));
  });

  it('feeds nothing to an unconditional artifact, and refuses a label given to one, naming the part', () => {
    assert.equal(labelFeed(undefined, undefined, 4, 'decoder'), undefined);
    assert.throws(() => labelFeed(undefined, 1, 4, 'encoder'), /^Error: aekit-web: this encoder is not conditional; leave out label$/);
    assert.throws(() => labelFeed(label, undefined, 1, 'decoder'), /this model is conditional: pass \{ label \} \(0 \.\. 2\)/);
  });
});
