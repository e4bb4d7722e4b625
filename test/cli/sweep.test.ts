import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './cli-helpers';

const ROOT = path.resolve(__dirname, '..', '..');

describe('aekit sweep (built CLI)', function () {
  this.timeout(120_000);
  let tmp: string;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cli-sweep-'));
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('runs the Omniglot AE-zoo recipe on the fixture (4 variants, 2 jobs), prints the table, and a rerun skips all four @slow', async () => {
    const args = ['sweep', '--config', 'experiments/omniglot-ae-zoo.json', '--out-dir', tmp, '--epochs', '1', '--jobs', '2', '--set', 'train.backend=wasm'];
    const first = await runCli(args, { cwd: ROOT });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /\| run \| status \| epochs \| train total \| train reconstruction \| val reconstruction \| time \(s\) \|/);
    for (const name of ['ae', 'dae', 'sparse-l1', 'sparse-kl']) assert.match(first.stdout, new RegExp(`\\| \\*\\*${name}\\*\\* \\| finished \\| 1 \\|`));
    assert.match(first.stdout, /### Test split \(\d+ images\)/);
    const dir = path.join(tmp, 'omniglot-ae-zoo');
    const markdown = await fs.readFile(path.join(dir, 'sweep.md'), 'utf8');
    assert.ok(first.stdout.startsWith(markdown), 'stdout starts with sweep.md');
    assert.equal((first.stderr.match(/^\[\d\/4\] train /gm) ?? []).length, 4);

    const second = await runCli(args, { cwd: ROOT });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /4 configurations \(4 to skip\)/);
    assert.equal((second.stderr.match(/^skip /gm) ?? []).length, 4);
    assert.doesNotMatch(second.stderr, /^\[\d\/\d\]/m);
    assert.equal(await fs.readFile(path.join(dir, 'sweep.md'), 'utf8'), markdown);
  });

  it('lists the plan with --dry-run and says in one line what is wrong with a sweep file', async () => {
    const file = path.join(tmp, 'bad.json');
    await fs.writeFile(file, JSON.stringify({ name: 'bad', base: { model: { family: 'vae' }, data: { dataset: { name: 'mnist' } } }, grid: { 'train.testFraction': [0.2] } }));
    const bad = await runCli(['sweep', '--config', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^aekit: .*bad\.json: 'train\.testFraction' is set by the sweep itself/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);

    const plan = await runCli(['sweep', '--config', 'experiments/mnist-vae-grid.json', '--out-dir', tmp, '--dry-run'], { cwd: ROOT });
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stderr, /sweep mnist-vae-grid: 36 configurations \(36 new\)/);
    assert.match(plan.stderr, /hiddenSizes-800_latentSize-400_learningRate-0\.0003_clipNorm-50: new/);
  });
  it('prints the Slurm job script on --dry-run with every resource passed through, and no Slurm is needed for it', async () => {
    const plan = await runCli(
      ['sweep', '--config', 'experiments/mnist-vae-grid.json', '--out-dir', tmp, '--executor', 'slurm', '--dry-run', '--jobs', '6', '--partition', 'gpu', '--time', '2:00:00', '--gpus-per-task', 'a100:1', '--cpus-per-task', '4', '--sbatch=--mem=16G', '--sbatch', '#SBATCH --account=lab'],
      { cwd: ROOT },
    );
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stderr, /sweep mnist-vae-grid: 36 configurations \(36 new\)/);
    const directives = plan.stdout.split('\n').filter((l) => l.startsWith('#SBATCH '));
    assert.deepEqual(directives, [
      '#SBATCH --job-name=aekit-mnist-vae-grid',
      '#SBATCH --array=0-35%6',
      `#SBATCH --chdir="${ROOT}"`,
      `#SBATCH --output="${path.join(tmp, 'mnist-vae-grid')}/logs/slurm-%A_%a.out"`,
      '#SBATCH --partition=gpu',
      '#SBATCH --time=2:00:00',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --gpus-per-task=a100:1',
      '#SBATCH --mem=16G',
      '#SBATCH --account=lab',
    ]);
    // The checkout's own node and CLI, not a global install.
    assert.ok(plan.stdout.includes(`AEKIT=(${process.execPath} ${path.join(ROOT, 'bin', 'aekit.js')})`), plan.stdout);
    assert.match(plan.stdout, /^NAMES=\(hiddenSizes-400_latentSize-100_learningRate-0\.001_clipNorm-5 /m);
    assert.ok(!(await fs.stat(path.join(tmp, 'mnist-vae-grid')).catch(() => undefined)), 'a dry run writes nothing');
  });

  it('says in one line what is wrong with Slurm flags, and what to do without Slurm', async () => {
    const config = ['sweep', '--config', 'experiments/mnist-vae-grid-small.json', '--out-dir', tmp];
    const cases: [string[], RegExp][] = [
      [['--partition', 'gpu'], /^aekit: --partition only applies to --executor slurm \(the executor is local\)$/],
      [['--executor', 'slurm', '--time', '2h'], /^aekit: --time: expected a Slurm time limit: .*got '2h'$/],
      [['--executor', 'slurm', '--sbatch=--array=0-3'], /^aekit: --sbatch '--array=0-3': --array is not allowed here: the sweep writes the array itself \(use --jobs to cap running tasks\)$/],
      [['--executor', 'slurm', '--cpus-per-task', '0'], /^aekit: --cpus-per-task: /],
    ];
    for (const [flags, message] of cases) {
      const result = await runCli([...config, ...flags], { cwd: ROOT });
      assert.equal(result.code, 1, flags.join(' '));
      assert.match(result.stderr.trim(), message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    // A machine without the Slurm clients (PATH without sbatch): refused before anything is written.
    const noSlurm = await runCli([...config, '--executor', 'slurm'], { cwd: ROOT, env: { PATH: path.join(tmp, 'empty-bin') } });
    assert.equal(noSlurm.code, 1);
    assert.match(noSlurm.stderr.trim(), /^aekit: sbatch and squeue not found on PATH: run `aekit sweep --executor slurm` on a machine that submits Slurm jobs \(a login node\), or use --executor local$/);
    assert.ok(!(await fs.stat(path.join(tmp, 'mnist-vae-grid-small')).catch(() => undefined)));

    const nothing = await runCli([...config, '--collect'], { cwd: ROOT });
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /^aekit: .*mnist-vae-grid-small: no sweep folder here, so nothing to collect/);
  });
});
