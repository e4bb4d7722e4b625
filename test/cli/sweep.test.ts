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
});
