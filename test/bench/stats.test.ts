/** Latency summaries: percentiles follow numpy's default ('linear') definition, so figures can be re-derived from the JSON samples. */
import { strict as assert } from 'node:assert';
import { percentile, summarise } from '../../src/bench/stats';

describe('bench: stats', () => {
  it('interpolates percentiles between closest ranks, as numpy.percentile does', () => {
    // numpy.percentile([1, 2, 3, 4], [25, 50, 95]) == [1.75, 2.5, 3.85]
    const sorted = [1, 2, 3, 4];
    assert.equal(percentile(sorted, 25), 1.75);
    assert.equal(percentile(sorted, 50), 2.5);
    assert.ok(Math.abs(percentile(sorted, 95) - 3.85) < 1e-12);
    assert.equal(percentile([7], 95), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('summarises unsorted samples: median, p95, spread', () => {
    const s = summarise([4, 1, 3, 2, 10]);
    assert.equal(s.count, 5);
    assert.equal(s.p50, 3);
    assert.equal(s.min, 1);
    assert.equal(s.max, 10);
    assert.equal(s.mean, 4);
    // numpy: percentile([1,2,3,4,10], 75) - percentile(..., 25) == 4 - 2
    assert.equal(s.iqr, 2);
    // Sample standard deviation: sqrt(((0)+9+1+4+36)/4)
    assert.ok(Math.abs(s.stdev - Math.sqrt(50 / 4)) < 1e-12);
    assert.equal(summarise([5]).stdev, 0);
  });
});
