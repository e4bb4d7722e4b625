/**
 * scripts/gpu-check.sh (issue 18, "the GPU path, ready to prove"): on a machine without an NVIDIA
 * GPU it must say so and skip cleanly, after probing the providers for real with `aekit bench`.
 * (Its GPU rows need a GPU machine; `--force` runs them on the CPU by hand: docs/benchmarks.md.)
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

describe('scripts/gpu-check.sh', function () {
  this.timeout(120_000);

  it('says "no GPU", reports which providers load and exits 0 on a machine without an NVIDIA GPU', function () {
    if (spawnSync('nvidia-smi', ['-L']).status === 0) {
      console.log('      (skipped: this machine has an NVIDIA GPU; run `bash scripts/gpu-check.sh` for the full report, about 5 minutes)');
      this.skip();
    }
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'aekit-gpu-check-test-'));
    try {
      const md = path.join(tmp, 'report.md');
      const r = spawnSync('bash', [path.join(ROOT, 'scripts/gpu-check.sh'), '--md', md], { cwd: ROOT, encoding: 'utf8', timeout: 110_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /GPU: no GPU/);
      assert.match(r.stdout, /^\| ort-node-cpu \| yes \| onnxruntime-node \d/m, 'the CPU provider loads everywhere');
      assert.match(r.stdout, /^\| ort-node-cuda \| no \| .*cannot start/m, 'without a GPU the CUDA provider is refused, with the reason');
      assert.match(r.stdout, /^\| tfjs-node-gpu \| (no|yes) \| /m);
      assert.match(r.stdout, /no GPU: training, decoder bench and serve bench rows skipped/);
      assert.doesNotMatch(r.stdout, /## Training/, 'no training rows without a GPU unless --force');
      assert.equal(readFileSync(md, 'utf8').trim(), r.stdout.trim(), '--md writes the same report');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('names a bad flag and exits 1', () => {
    const r = spawnSync('bash', [path.join(ROOT, 'scripts/gpu-check.sh'), '--dcgan-steps', '2'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--dcgan-steps: expected a whole number above 3, got '2'/);
  });
});
