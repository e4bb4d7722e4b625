/**
 * A session on a worker thread (src/artifact/worker-session.ts), on the shipped MNIST classifier:
 * the same outputs as a session on this thread, feeds copied at the call, two runs in flight at
 * once, the worker's errors named, and a process that never releases its worker session still exits.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openOrtSession } from '../../src/artifact/runtime';
import type { HostTensor } from '../../src/artifact/runtime';
import { openWorkerSession } from '../../src/artifact/worker-session';
import { AekitError } from '../../src/core/errors';

const MODEL = path.resolve(__dirname, '../../models/mnist-classifier.onnx');

function images(n: number, seed: number): HostTensor {
  const data = new Float32Array(n * 784);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919 + seed * 104729) % 1000) / 1000;
  return { dtype: 'float32', data, dims: [n, 1, 28, 28] };
}

describe('artifact/worker-session', function () {
  this.timeout(60_000);
  let bytes: Uint8Array;

  before(async () => {
    bytes = new Uint8Array(await fs.readFile(MODEL));
  });

  it('runs as a session on this thread does, outputs written into the caller arrays', async () => {
    const local = await openOrtSession('ort-node-cpu', bytes, { threads: 1 });
    const remote = await openWorkerSession('ort-node-cpu', bytes, { threads: 1 });
    try {
      assert.deepEqual(remote.inputNames, local.inputNames);
      assert.deepEqual(remote.outputNames, local.outputNames);
      const feeds = { [local.inputNames[0]]: images(5, 1) };
      const expected = await local.run(feeds);
      const outputs: Record<string, HostTensor> = {};
      for (const o of expected) outputs[o.name] = { dtype: 'float32', data: new Float32Array(o.data.length).fill(Number.NaN), dims: o.dims };
      await remote.runInto(feeds, outputs);
      for (const o of expected) assert.deepEqual([...outputs[o.name].data], [...o.data], o.name);
    } finally {
      await Promise.all([local.release(), remote.release()]);
    }
  });

  it('copies the feeds at the call: the caller may overwrite them while the run is in flight; two runs overlap', async () => {
    const local = await openOrtSession('ort-node-cpu', bytes, { threads: 1 });
    const remote = await openWorkerSession('ort-node-cpu', bytes, { threads: 1 });
    try {
      const input = local.inputNames[0];
      const name = local.outputNames[0];
      const [a, b] = [images(3, 2), images(3, 3)];
      const [expectedA, expectedB] = [(await local.run({ [input]: a }))[0], (await local.run({ [input]: b }))[0]];
      const out = () => ({ [name]: { dtype: 'float32' as const, data: new Float32Array(expectedA.data.length), dims: expectedA.dims } });
      const [outA, outB] = [out(), out()];
      const feedA = { [input]: { ...a, data: Float32Array.from(a.data) } };
      const first = remote.runInto(feedA, outA);
      feedA[input].data.fill(0);
      const second = remote.runInto({ [input]: b }, outB);
      await Promise.all([first, second]);
      assert.deepEqual([...outA[name].data], [...expectedA.data]);
      assert.deepEqual([...outB[name].data], [...expectedB.data]);
    } finally {
      await Promise.all([local.release(), remote.release()]);
    }
  });

  it("names the worker's errors: a model that does not load, a feed of the wrong shape, a released session", async () => {
    await assert.rejects(openWorkerSession('ort-node-cpu', Uint8Array.of(1, 2, 3)), (e: unknown) => e instanceof AekitError && /did not open: .*does not load/.test(e.message));
    const remote = await openWorkerSession('ort-node-cpu', bytes, { threads: 1 });
    const outputs = { [remote.outputNames[0]]: { dtype: 'float32' as const, data: new Float32Array(10), dims: [1, 10] } };
    await assert.rejects(remote.runInto({ [remote.inputNames[0]]: { dtype: 'float32', data: new Float32Array(10), dims: [1, 10] } }, outputs), (e: unknown) => e instanceof AekitError && /run on a worker thread failed/.test(e.message));
    await remote.release();
    await assert.rejects(remote.runInto({}, {}), /released/);
  });

  it('a process that never releases its worker session still exits', () => {
    const script = `require(${JSON.stringify(path.resolve(__dirname, '../../src/artifact/worker-session.ts'))}).openWorkerSession('ort-node-cpu', require('node:fs').readFileSync(${JSON.stringify(MODEL)})).then(() => console.log('opened'))`;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.signal, null, `killed after ${Date.now() - started} ms: the worker held the process open`);
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /opened/);
  });
});
