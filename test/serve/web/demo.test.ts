/**
 * The demo page's pure parts, in Node: the map's grid (normal quantiles, cell layout), the
 * interpolation codes, the latent layout of categorical codes, and the work queue that keeps one
 * session call at a time and only the latest pending job of a view.
 */
import { strict as assert } from 'node:assert';
import { describeArtifact } from '../../../src/artifact/info';
import { readMetadata } from '../../../src/artifact/onnx-io';
import { lerpCodes, STRIP_FRAMES } from '../../../src/serve/web/demo/grids';
import { latentLayout } from '../../../src/serve/web/demo/latent';
import { MAP_CELLS, mapAxis, mapCodes, normalQuantile } from '../../../src/serve/web/demo/map';
import { Scheduler } from '../../../src/serve/web/demo/scheduler';
import { webArtifacts } from '../web-helpers';

describe('serve/web: the demo page, its pure parts', () => {
  it('lays the map on N(0, 1) quantiles 0.05 .. 0.95, columns along z0, rows down along z1', () => {
    // scipy.stats.norm.ppf(0.05) and .ppf(0.975).
    assert.ok(Math.abs(normalQuantile(0.05) + 1.6448536269514729) < 1e-8);
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959963984540054) < 1e-8);
    assert.equal(normalQuantile(0.5), 0);
    const axis = mapAxis();
    assert.equal(axis.length, MAP_CELLS);
    assert.ok(Math.abs(axis[0] + 1.6448536269514729) < 1e-8 && Math.abs(axis[MAP_CELLS - 1] - 1.6448536269514729) < 1e-8);
    const codes = mapCodes([-1, 0, 1], Float32Array.from([9, 9, 0.5]));
    // Row 0 is the top (z1 = 1); within a row z0 ascends; the third dimension is the base's.
    assert.deepEqual(Array.from(codes.subarray(0, 9)), [-1, 1, 0.5, 0, 1, 0.5, 1, 1, 0.5]);
    assert.deepEqual(Array.from(codes.subarray(18, 21)), [-1, -1, 0.5]);
  });

  it('interpolates on the straight segment, both ends included', () => {
    const codes = lerpCodes([0, 2], [1, -2]);
    assert.equal(codes.length, STRIP_FRAMES * 2);
    assert.deepEqual(Array.from(codes.subarray(0, 2)), [0, 2]);
    assert.deepEqual(Array.from(codes.subarray(codes.length - 2)), [1, -2]);
    assert.ok(Math.abs(codes[2] - 1 / (STRIP_FRAMES - 1)) < 1e-7);
  });

  it('splits a joint code into its Gaussian part and one-hot groups, from the artifact', async () => {
    const artifacts = await webArtifacts();
    const joint = describeArtifact(readMetadata(artifacts.part('joint', 'decoder')));
    assert.deepEqual(latentLayout(joint, 13), { size: 13, gaussian: 3, categorical: { variables: 1, classes: 10 } });
    const vae = describeArtifact(readMetadata(artifacts.part('vae', 'decoder')));
    assert.deepEqual(latentLayout(vae, 4), { size: 4, gaussian: 4 });
  });

  it('runs jobs one at a time and keeps only the latest pending job of a view', async () => {
    const errors: unknown[] = [];
    const scheduler = new Scheduler((e) => errors.push(e));
    const log: string[] = [];
    let running = 0;
    const job = (name: string) => async () => {
      running++;
      assert.equal(running, 1, 'one job at a time');
      await new Promise((r) => setTimeout(r, 5));
      log.push(name);
      running--;
    };
    scheduler.coalesce('output', job('a'));
    scheduler.coalesce('map', job('map'));
    // 'a' has not started: 'b' and then 'c' replace it.
    scheduler.coalesce('output', job('b'));
    scheduler.coalesce('output', job('c'));
    await scheduler.idle();
    assert.deepEqual(log, ['c', 'map']);
    scheduler.coalesce('output', async () => {
      throw new Error('boom');
    });
    await scheduler.idle();
    assert.equal((errors[0] as Error).message, 'boom');
    scheduler.coalesce('output', job('after'));
    await scheduler.idle();
    assert.deepEqual(log, ['c', 'map', 'after'], 'a failed job does not stop the queue');
  });
});
