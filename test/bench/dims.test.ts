/**
 * Sizing symbolic dimensions: the batch names other tools use, the first axis, `--dim` for the
 * rest (and over both rules), and the batch sizes a model with a fixed batch can run.
 */
import { strict as assert } from 'node:assert';
import { BATCH_DIM_NAMES, batchPlan, bindShape, checkDimSizes, isBatchDimName } from '../../src/bench/dims';

const DEFAULTS = [1, 16, 256];

describe('bench: symbolic dimensions', () => {
  it('binds the batch names of aekit, PyTorch exports and model zoos at any axis, case-insensitively', () => {
    for (const name of ['batch', 'N', 'batch_size', 'Batch', 'BATCH_SIZE', 'bs']) assert.ok(isBatchDimName(name), name);
    for (const name of ['seq', 'sequence_length', 'height', 'unk__12']) assert.ok(!isBatchDimName(name), name);
    assert.ok(BATCH_DIM_NAMES.includes('batch'), "aekit's own name");
    // Time-major input: the batch is the second axis.
    assert.deepEqual(bindShape({ name: 'x', shape: [5, 'N', 3] }, 8), [5, 8, 3]);
  });

  it('binds the first axis whatever its name (tf2onnx unk__, unnamed) and no other axis', () => {
    assert.deepEqual(bindShape({ name: 'x', shape: ['unk__12', 3] }, 4), [4, 3]);
    assert.deepEqual(bindShape({ name: 'x', shape: [null, 3] }, 4), [4, 3]);
    assert.throws(() => bindShape({ name: 'x', shape: ['batch', 'seq', 4] }, 2), /input 'x' \[batch, seq, 4\] has symbolic dimension 'seq' at axis 1, which is not the batch; give its size with --dim seq=<size>/);
    assert.throws(() => bindShape({ name: 'x', shape: ['N', null] }, 2), /input 'x' \[N, \?\] has an unnamed dimension of unknown size at axis 1/);
  });

  it('sizes other dims from --dim, which also overrides the batch rules', () => {
    assert.deepEqual(bindShape({ name: 'x', shape: ['batch_size', 'seq', 4] }, 2, { seq: 7 }), [2, 7, 4]);
    // A time-major model whose first axis is the sequence: --dim sizes it, and N stays the batch.
    assert.deepEqual(bindShape({ name: 'x', shape: ['T', 'N', 4] }, 2, { T: 9 }), [9, 2, 4]);
    // A model where N means points, not images.
    assert.deepEqual(bindShape({ name: 'x', shape: ['batch', 'N', 3] }, 2, { N: 1024 }), [2, 1024, 3]);
  });

  it('checks --dim sizes against the model, listing its symbolic dims', () => {
    const inputs = [{ name: 'ids', shape: ['N', 'seq'] }, { name: 'x', shape: [1, 3] }];
    checkDimSizes(inputs, { seq: 8 });
    assert.throws(() => checkDimSizes(inputs, { sequence: 8 }), /no input of the model has a symbolic dimension 'sequence'; its symbolic dimensions are: N \(input 'ids' axis 0\), seq \(input 'ids' axis 1\)/);
    assert.throws(() => checkDimSizes([{ name: 'x', shape: [1, 3] }], { seq: 8 }), /it has no symbolic dimensions/);
    assert.throws(() => checkDimSizes(inputs, { seq: 0 }), /expected a positive whole size for 'seq', found 0/);
  });

  it('runs any batch when an input has a batch dimension, and only the fixed one otherwise', () => {
    assert.deepEqual(batchPlan([{ name: 'z', shape: ['batch', 16] }], undefined, DEFAULTS), { batches: DEFAULTS, refused: [], fixedBatch: null });
    assert.deepEqual(batchPlan([{ name: 'z', shape: ['batch', 16] }, { name: 'scale', shape: [1] }], [2, 3], DEFAULTS).batches, [2, 3]);

    const fixed = [{ name: 'x', shape: [4, 3, 32, 32] }];
    const plain = batchPlan(fixed, undefined, DEFAULTS);
    assert.deepEqual([plain.batches, plain.refused, plain.fixedBatch], [[4], [], 4]);
    const asked = batchPlan(fixed, [1, 4, 16], DEFAULTS);
    assert.deepEqual(asked.batches, [4]);
    assert.deepEqual(asked.refused.map((r) => r.batch), [1, 16]);
    assert.match(asked.refused[0].reason, /the model runs 4 images at a time \(input 'x' has the fixed shape \[4, 3, 32, 32\] and no input has a symbolic batch dimension\), not 1; bench it with --batch 4/);
    assert.throws(() => batchPlan(fixed, [16], DEFAULTS), /no batch size asked for can run: the model runs 4 images at a time/);

    // --dim fixing the only symbolic dimension fixes the batch too.
    assert.equal(batchPlan([{ name: 'x', shape: ['T', 3] }], undefined, DEFAULTS, { T: 5 }).fixedBatch, 5);
    assert.equal(batchPlan([{ name: 'x', shape: [] }], undefined, DEFAULTS).fixedBatch, 1, 'scalar inputs: one image per run');
  });
});
