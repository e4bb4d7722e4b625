import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN } from './cli-helpers';

describe('aekit train on SIGTERM (built CLI)', function () {
  this.timeout(120_000);
  let tmp: string;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cli-sigterm-'));
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('writes an interrupted checkpoint and exits 0, as after Ctrl-C, however many SIGTERMs come (how Slurm stops a job)', async () => {
    const config = path.join(tmp, 'run.json');
    await fs.writeFile(
      config,
      JSON.stringify({
        name: 'stopped',
        outDir: tmp,
        model: { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2 },
        data: { dataset: { name: 'mnist', limit: 300 } },
        train: { epochs: 20, batchSize: 5, backend: 'wasm' },
      }),
    );
    const child = spawn(process.execPath, [BIN, 'train', '--config', config], { env: { ...process.env, CI: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      // The first step's progress line: training is under way, far from its end (20 epochs).
      if (/^epoch 1\/20 step 1\//m.test(stderr) && !child.killed) {
        // Twice, as a Slurm task gets it (from Slurm and from its batch shell): the second changes nothing.
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGTERM'), 200);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /interrupt: SIGTERM: finishing this step and writing a checkpoint/);
    assert.match(stdout, /^interrupted after step \d+; resume with: aekit train --resume /m);
    const latest = JSON.parse(await fs.readFile(path.join(tmp, 'stopped', 'checkpoints', 'latest.json'), 'utf8')) as { trainer: { reason: string; epoch: number } };
    assert.equal(latest.trainer.reason, 'interrupted');
    assert.ok(latest.trainer.epoch < 20, `stopped at epoch ${latest.trainer.epoch} of 20`);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`the tfjs engine stops within a couple of steps of ${signal}, not at the end of the epoch`, async () => {
      const name = `tfjs-${signal}`;
      const config = path.join(tmp, `${name}.json`);
      // 300 images in batches of 4: 68 steps per epoch, far more than the couple the signal may take.
      await fs.writeFile(
        config,
        JSON.stringify({
          name,
          outDir: tmp,
          model: { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2 },
          data: { dataset: { name: 'mnist', limit: 300 } },
          train: { epochs: 2, batchSize: 4, backend: 'wasm', engine: 'tfjs' },
        }),
      );
      const child = spawn(process.execPath, [BIN, 'train', '--config', config], { env: { ...process.env, CI: '1' } });
      let stderr = '';
      child.stdout.resume();
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/^epoch 1\/2 step 1\//m.test(stderr) && !child.killed) child.kill(signal);
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, stderr);
      const latest = JSON.parse(await fs.readFile(path.join(tmp, name, 'checkpoints', 'latest.json'), 'utf8')) as { trainer: { reason: string; epoch: number; stepInEpoch: number } };
      assert.equal(latest.trainer.reason, 'interrupted');
      assert.equal(latest.trainer.epoch, 0);
      assert.ok(latest.trainer.stepInEpoch >= 1 && latest.trainer.stepInEpoch <= 6, `stopped after step ${latest.trainer.stepInEpoch} of 68`);
    });
  }
});
