import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arraySpec, checkSlurmResources } from '../../src/train/sweep/slurm-script';
import { runCli } from '../cli/cli-helpers';
import { slurmUnavailable, startSlurmCluster, TEST_PARTITION } from '../helpers/slurm';
import type { SlurmCluster } from '../helpers/slurm';

describe('sweep on Slurm: job script parts', () => {
  it('writes array indices as ranges with the running cap', () => {
    assert.equal(arraySpec([8, 0, 1, 2, 5, 7]), '0-2,5,7-8');
    assert.equal(arraySpec([1], 3), '1%3');
  });

  it('refuses bad resources naming the flag, and options the sweep sets itself', () => {
    assert.throws(() => checkSlurmResources({ time: '2h' }), /--time: expected a Slurm time limit.*got '2h'/);
    assert.throws(() => checkSlurmResources({ gpusPerTask: '0' }), /--gpus-per-task: expected a count of at least 1/);
    assert.throws(() => checkSlurmResources({ partition: 'gpu queue' }), /--partition: expected a partition name/);
    assert.throws(() => checkSlurmResources({ extra: ['--output=/tmp/x'] }), /--output is not allowed here: task logs go to <sweep>\/logs\//);
    assert.throws(() => checkSlurmResources({ extra: ['-pgpu'] }), /-p is not allowed here: use --partition/);
    assert.throws(() => checkSlurmResources({ extra: ['mem=8G'] }), /--sbatch: expected one sbatch option such as --mem=8G/);
    const ok = checkSlurmResources({ time: '1-12:00:00', gpusPerTask: 'a100:2', partition: 'gpu,cpu', extra: ['#SBATCH --mem=8G', '--comment=two words'] });
    assert.deepEqual(ok.extra, ['--mem=8G', '--comment="two words"']);
  });
});

describe('sweep on a real single-node Slurm', function () {
  this.timeout(300_000);
  let cluster: SlurmCluster | undefined;
  let tmp: string;

  before(async function () {
    const reason = slurmUnavailable();
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
    cluster = await startSlurmCluster();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-slurm-sweep-'));
  });
  after(async () => {
    await cluster?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  /** Resolves once `file` holds a line matching `pattern`. */
  async function waitForLine(file: string, pattern: RegExp, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!pattern.test(await fs.readFile(file, 'utf8').catch(() => ''))) {
      if (Date.now() > until) throw new Error(`${file} has no line matching ${pattern} after ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('runs a 2x2 grid as one job array; a task killed with scancel checkpoints and resumes on rerun; --collect rebuilds the report @slow', async () => {
    const slurm = cluster!;
    // Relative outDir: tasks must run in the folder the sweep was started from.
    const sweepFile = path.join(tmp, 'grid.json');
    await fs.writeFile(
      sweepFile,
      JSON.stringify({
        name: 'grid',
        outDir: 'sweeps',
        base: {
          model: { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2 },
          data: { dataset: { name: 'mnist', limit: 300 } },
          // 3 epochs of 48 steps: a few seconds per task, long enough to cancel one mid-run.
          train: { epochs: 3, batchSize: 5, backend: 'wasm', seed: 0 },
        },
        grid: { 'model.latentSize': [2, 4], 'train.learningRate': [0.001, 0.003] },
      }),
    );
    const dir = path.join(tmp, 'sweeps', 'grid');
    const cli = (args: string[]) => runCli(['sweep', '--config', sweepFile, ...args], { cwd: tmp, env: slurm.env });
    const slurmArgs = ['--executor', 'slurm', '--poll', '0.5'];
    const submissions = async () => (JSON.parse(await fs.readFile(path.join(dir, 'slurm', 'jobs.json'), 'utf8')) as { submissions: { jobId: string; scriptFile: string }[] }).submissions;

    // Submit and return; the resources reach Slurm.
    const submit = await cli([...slurmArgs, '--detach', '--partition', TEST_PARTITION, '--time', '10', '--cpus-per-task', '1', '--sbatch=--comment=aekit sweep test']);
    assert.equal(submit.code, 0, submit.stderr);
    const jobId = /submitted Slurm job (\d+): 4 task\(s\)/.exec(submit.stderr)?.[1];
    assert.ok(jobId, submit.stderr);
    assert.match(submit.stderr, /not following: Slurm job \d+ keeps running \(4 task\(s\) left\)/);
    const queued = await slurm.run('squeue', ['--noheader', '--array', '--states=all', `--jobs=${jobId}`, '--format=%K|%P|%l|%C|%k']);
    assert.deepEqual(queued.stdout.trim().split('\n').sort(), ['0', '1', '2', '3'].map((i) => `${i}|${TEST_PARTITION}|10:00|1|aekit sweep test`));

    // The local executor refuses to train the runs the job is training.
    const local = await cli([]);
    assert.equal(local.code, 1);
    assert.match(local.stderr, new RegExp(`Slurm job ${jobId} is still training this sweep`));

    // Cancel one task once it trains: it gets SIGTERM and checkpoints.
    const killed = 'latentSize-2_learningRate-0.003';
    await waitForLine(path.join(dir, 'logs', `${killed}.log`), /^epoch 1\/3 step 1\/48/m, 120_000);
    const cancel = await slurm.run('scancel', [`${jobId}_1`]);
    assert.equal(cancel.code, 0, cancel.stderr);

    // Rerun while the job runs: follows it instead of submitting again, until every task ended.
    const follow = await cli(slurmArgs);
    assert.equal(follow.code, 1, follow.stderr);
    assert.match(follow.stderr, new RegExp(`Slurm job ${jobId} of this sweep still has [1-4] task\\(s\\) queued or running: following it`));
    assert.match(follow.stderr, new RegExp(`^interrupted ${killed} \\(Slurm CANCELLED\\)`, 'm'));
    assert.match(follow.stderr, new RegExp(`1 of 4 runs did not finish \\(${killed}: interrupted\\)`));
    assert.match(follow.stdout, /1 run\(s\) not trained to the end: the selection is provisional/);
    assert.equal((await submissions()).length, 1);
    const checkpoint = JSON.parse(await fs.readFile(path.join(dir, 'runs', killed, 'checkpoints', 'latest.json'), 'utf8')) as { trainer: { reason: string } };
    assert.equal(checkpoint.trainer.reason, 'interrupted');
    assert.match(await fs.readFile(path.join(dir, 'logs', `${killed}.log`), 'utf8'), /SIGTERM: aekit train is writing a checkpoint/);

    // Rerun: the three finished runs are skipped, the cancelled one resumes as a one-task array.
    const resume = await cli(slurmArgs);
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stderr, /4 configurations \(3 to skip, 1 to resume\)/);
    assert.match(resume.stderr, /submitted Slurm job \d+: 1 task\(s\)/);
    const [, second] = await submissions();
    assert.match(await fs.readFile(second.scriptFile, 'utf8'), /^#SBATCH --array=1$/m);
    const resumed = JSON.parse(await fs.readFile(path.join(dir, 'runs', killed, 'run.json'), 'utf8')) as { resumedFrom: string | null };
    assert.match(String(resumed.resumedFrom), /interrupted/);
    assert.match(await fs.readFile(path.join(dir, 'logs', `${killed}.log`), 'utf8'), /aekit train --resume \S+ --epochs 3/);
    assert.equal((resume.stdout.match(/\| finished \| 3 \|/g) ?? []).length, 4);
    assert.match(resume.stdout, /### Test split \(30 images\)/);
    const markdown = await fs.readFile(path.join(dir, 'sweep.md'), 'utf8');
    const summary = JSON.parse(await fs.readFile(path.join(dir, 'sweep.json'), 'utf8')) as { runs: { name: string; slurm?: { task: string; state: string } }[] };
    assert.deepEqual(summary.runs.find((r) => r.name === killed)?.slurm, { task: `${second.jobId}_1`, state: 'COMPLETED' });

    // --collect: the same report from the run folders, nothing submitted.
    const collected = await runCli(['sweep', '--config', sweepFile, '--collect'], { cwd: tmp, env: slurm.env });
    assert.equal(collected.code, 0, collected.stderr);
    assert.ok(collected.stdout.startsWith(markdown), 'stdout starts with sweep.md');
    assert.equal(await fs.readFile(path.join(dir, 'sweep.md'), 'utf8'), markdown);
    assert.equal((await submissions()).length, 2);
  });
});
