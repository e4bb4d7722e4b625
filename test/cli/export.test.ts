/**
 * `aekit export <run>` as a user runs it (the built CLI): the artifacts go to `<run>/onnx` by
 * default, exporting the same checkpoint again is a no-op that leaves the files alone, and a
 * different checkpoint over them still needs `--force`.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rawMetadata } from '../../src/artifact/onnx-io';
import { train } from '../../src/train/trainer';
import type { RunConfigInput } from '../../src/run/config';
import { runCli } from './cli-helpers';

const MODEL: RunConfigInput['model'] = { family: 'ae', architecture: 'mlp', hiddenSizes: [16], latentSize: 4 };

describe('cli: aekit export <run>', function () {
  this.timeout(240_000);
  let tmp: string;
  let first: string;
  let second: string;
  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'aekit-export-'));
    const trainRun = async (name: string, seed: number): Promise<string> =>
      (await train({ name, outDir: tmp, model: MODEL, data: { dataset: { name: 'mnist', limit: 100 } }, train: { epochs: 1, batchSize: 50, backend: 'wasm', seed } }, {})).runDir;
    first = await trainRun('first', 1);
    second = await trainRun('second', 2);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes <run>/onnx without --out, and exporting the same checkpoint again changes nothing', async () => {
    const exported = await runCli(['export', first, '--no-verify']);
    assert.equal(exported.code, 0, exported.stderr);
    const onnx = path.join(first, 'onnx');
    assert.deepEqual(readdirSync(onnx).sort(), ['decoder.onnx', 'encoder.onnx']);
    assert.match(exported.stdout, /encoder: .*first\/onnx\/encoder\.onnx \(\d+\.\d KiB\)/);
    const before = readFileSync(path.join(onnx, 'encoder.onnx'));
    const mtime = statSync(path.join(onnx, 'encoder.onnx')).mtimeMs;

    const again = await runCli(['export', first, '--out', onnx]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /encoder: .*encoder\.onnx already holds this export \(same checkpoint and options\); left as it is/);
    assert.match(again.stdout, /decoder: .*decoder\.onnx already holds this export/);
    assert.ok(readFileSync(path.join(onnx, 'encoder.onnx')).equals(before), 'same bytes');
    assert.equal(statSync(path.join(onnx, 'encoder.onnx')).mtimeMs, mtime, 'not rewritten');
  });

  it('a re-export that only adds --triton leaves the artifacts alone and still writes the Triton repository', async () => {
    const onnx = path.join(first, 'onnx');
    const before = readFileSync(path.join(onnx, 'decoder.onnx'));
    const repo = path.join(tmp, 'triton-repo');
    const r = await runCli(['export', first, '--triton', repo, '--no-verify']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /decoder: .*decoder\.onnx already holds this export/);
    assert.match(r.stdout, /triton: .*triton-repo\/first-decoder/);
    assert.ok(readFileSync(path.join(onnx, 'decoder.onnx')).equals(before), 'artifact not rewritten');
    assert.ok(readFileSync(path.join(repo, 'first-decoder', '1', 'model.onnx')).equals(before), 'the repository holds the same model');
    assert.ok(statSync(path.join(repo, 'first-decoder', 'config.pbtxt')).size > 0);
  });

  it('refuses another checkpoint over existing artifacts without --force, and replaces them with it', async () => {
    const onnx = path.join(first, 'onnx');
    const ownRun = (file: string): unknown => rawMetadata(file).runId;
    const refused = await runCli(['export', second, '--out', onnx, '--no-verify']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^aekit: .*first\/onnx\/encoder\.onnx: holds a different export \(another checkpoint, part or options\); use --force to replace it/);
    assert.equal(ownRun(path.join(onnx, 'encoder.onnx')), 'first', 'left alone');

    const forced = await runCli(['export', second, '--out', onnx, '--no-verify', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(ownRun(path.join(onnx, 'encoder.onnx')), 'second');
  });

  it('also treats other options (fp16) over the same checkpoint as a different export', async () => {
    const onnx = path.join(second, 'onnx');
    assert.equal((await runCli(['export', second, '--part', 'decoder', '--no-verify'])).code, 0);
    const fp16 = await runCli(['export', second, '--part', 'decoder', '--fp16', '--no-verify']);
    assert.equal(fp16.code, 1);
    assert.match(fp16.stderr, /decoder\.onnx: holds a different export/);
    assert.ok(readdirSync(onnx).includes('decoder.onnx'));
  });
});
