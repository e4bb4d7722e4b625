/**
 * A run's checkpoints folder read as it is on disk, whatever stopped its writer: the newest whole
 * checkpoint is found without `latest.json` (or despite a stale one), writer folders are never
 * taken for checkpoints, a damaged checkpoint is named rather than loaded, and the next trainer
 * clears what a dead writer left (issue 16). Real runs, real files.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../src/core/errors';
import { findCheckpoint, loadCheckpoint, newestCheckpoint } from '../../src/run/checkpoint';
import { repairRunFolder, resumeTarget } from '../../src/run/checkpoint-folder';
import { RunFolder } from '../../src/run/run-folder';
import { train } from '../../src/train/trainer';
import { runCli } from '../cli/cli-helpers';

let outDir: string;

function config(name: string) {
  return {
    name,
    outDir,
    model: { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2 },
    data: { dataset: { name: 'mnist', limit: 120 } },
    train: { epochs: 3, batchSize: 20, seed: 4, backend: 'wasm' },
  };
}

/** A copy of the trained run `whole` under a new name. */
async function copyRun(name: string): Promise<RunFolder> {
  const dir = path.join(outDir, name);
  await fs.cp(path.join(outDir, 'whole'), dir, { recursive: true });
  const folder = new RunFolder(dir);
  await folder.writeJson(folder.configPath, { ...config(name) });
  return folder;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

async function rejection(promise: Promise<unknown>): Promise<AekitError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AekitError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

describe('run/checkpoint-folder: the newest whole checkpoint, whatever the last writer left', function () {
  this.timeout(300_000);
  let finalTensors: Buffer;

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-ckpt-'));
    await train(config('whole'));
    finalTensors = await fs.readFile(path.join(outDir, 'whole', 'checkpoints', 'epoch-0003', 'tensors.bin'));
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  it('without latest.json (killed before it was written), the newest checkpoint is found by reading the folders', async () => {
    const run = await copyRun('no-latest');
    await fs.rm(run.latestCheckpointPath);
    assert.equal(await findCheckpoint(run.dir), path.join(run.checkpointsDir, 'epoch-0003'));
    assert.equal((await newestCheckpoint(run.checkpointsDir))?.label, 'epoch-0003');
    await fs.rm(path.join(run.checkpointsDir, 'epoch-0003'), { recursive: true });
    const loaded = await loadCheckpoint(run.dir);
    assert.equal(path.basename(loaded.dir), 'epoch-0002');
    assert.equal(loaded.trainer.epoch, 2);
    loaded.model.dispose();
  });

  it('a stale latest.json (naming an older checkpoint) is passed over, and the next trainer rewrites it', async () => {
    const run = await copyRun('stale');
    await run.writeJson(run.latestCheckpointPath, { checkpoint: 'epoch-0001', trainer: {} });
    assert.equal(path.basename(await findCheckpoint(run.dir)), 'epoch-0003');
    assert.deepEqual(await repairRunFolder(run), ['latest.json now names epoch-0003, the newest complete checkpoint (step 18)']);
    assert.equal(JSON.parse(await fs.readFile(run.latestCheckpointPath, 'utf8')).checkpoint, 'epoch-0003');
  });

  it('writer folders are never checkpoints; a dead writer\'s are removed, a whole one of a missing label restored, a live writer\'s kept', async () => {
    const run = await copyRun('writers');
    const dead = await deadPid();
    const root = run.checkpointsDir;
    // A kill between moving epoch-0002 aside and renaming its new copy in: both whole, no epoch-0002.
    await fs.rename(path.join(root, 'epoch-0002'), path.join(root, `epoch-0002.old-${dead}-1`));
    await fs.cp(path.join(root, `epoch-0002.old-${dead}-1`), path.join(root, `epoch-0002.tmp-${dead}-2`), { recursive: true });
    // A half-written epoch-0004 (no manifest) and a latest.json temp file of the same writer.
    await fs.mkdir(path.join(root, `epoch-0004.tmp-${dead}-3`));
    await fs.writeFile(path.join(root, `epoch-0004.tmp-${dead}-3`, 'tensors.bin'), Buffer.alloc(8));
    await fs.writeFile(path.join(root, `.latest.json.${dead}.0123456789ab.tmp`), '{"checkpoint": "epo');
    await fs.writeFile(path.join(run.dir, `.run.json.${dead}.0123456789ab.tmp`), '');
    // A writer still alive (this test process) keeps its temp file.
    await fs.writeFile(path.join(root, `.latest.json.${process.ppid}.abcdefabcdef.tmp`), '');
    assert.deepEqual((await newestCheckpoint(run.dir))?.label, 'epoch-0003', 'writer folders are not candidates');

    const done = await repairRunFolder(run);
    assert.ok(done.includes(`restored checkpoint epoch-0002 from epoch-0002.tmp-${dead}-2 (a write of it was cut short)`), done.join('\n'));
    const names = await fs.readdir(root);
    assert.deepEqual(names.sort(), [`.latest.json.${process.ppid}.abcdefabcdef.tmp`, 'epoch-0001', 'epoch-0002', 'epoch-0003', 'latest.json']);
    assert.deepEqual((await fs.readdir(run.dir)).filter((n) => n.endsWith('.tmp')), []);
    const loaded = await loadCheckpoint(path.join(root, 'epoch-0002'));
    assert.equal(loaded.trainer.epoch, 2);
    loaded.model.dispose();
  });

  it('a damaged checkpoint is named, not loaded: truncated tensors.bin, broken checkpoint.json; resume passes over it with a warning', async () => {
    const run = await copyRun('damaged');
    const bin = path.join(run.checkpointsDir, 'epoch-0003', 'tensors.bin');
    const size = (await fs.stat(bin)).size;
    await fs.truncate(bin, size - 100);
    const truncated = await rejection(loadCheckpoint(path.join(run.checkpointsDir, 'epoch-0003')));
    assert.equal(truncated.code, 'BAD_CHECKPOINT');
    assert.match(truncated.message, new RegExp(`tensors\\.bin: size ${size - 100} bytes, expected ${size} .*truncated`));
    const found = await rejection(findCheckpoint(run.dir));
    assert.match(found.message, /checkpoint epoch-0003 is damaged \(.*tensors\.bin: \d+ bytes, expected \d+\); name a whole checkpoint folder instead, e\.g\. .*epoch-0002/);

    await fs.writeFile(path.join(run.checkpointsDir, 'epoch-0002', 'checkpoint.json'), '{"format": "aekit-checkpoint", "vers');
    const broken = await rejection(loadCheckpoint(path.join(run.checkpointsDir, 'epoch-0002')));
    assert.equal(broken.code, 'BAD_CHECKPOINT');
    assert.match(broken.message, /epoch-0002\/checkpoint\.json: not valid JSON/);

    // Resuming goes back to the newest whole checkpoint, saying what it passed over, and ends where a whole run ends.
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    await train(config('damaged'), { resume: true, logger });
    assert.ok(warnings.some((w) => /checkpoint epoch-0002 is damaged .*: passed over/.test(w)), warnings.join('\n'));
    assert.ok(warnings.some((w) => /checkpoint epoch-0003 is damaged .*: passed over/.test(w)), warnings.join('\n'));
    assert.ok((await fs.readFile(bin)).equals(finalTensors), 'retrained from epoch-0001 to the same weights');
  });

  it('aekit train --resume <run>/checkpoints/epoch-0001 continues from that checkpoint and drops the later ones (built CLI)', async () => {
    const run = await copyRun('explicit');
    const { code, stderr } = await runCli(['train', '--resume', path.join(run.checkpointsDir, 'epoch-0001')]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /resuming from epoch-0001 \(step 6\): removed the later checkpoints epoch-0002, epoch-0003/);
    assert.match(stderr, /resumed from .*epoch-0001/);
    assert.ok((await fs.readFile(path.join(run.checkpointsDir, 'epoch-0003', 'tensors.bin'))).equals(finalTensors));
    assert.deepEqual((await resumeTarget(path.join(run.checkpointsDir, 'epoch-0002'))).folder.dir, path.resolve(run.dir));
  });

  it('a run killed before its first checkpoint resumes from the beginning; a path that is no run is refused', async () => {
    const run = await copyRun('none');
    await fs.rm(run.checkpointsDir, { recursive: true });
    const noCheckpoint = await rejection(findCheckpoint(run.dir));
    assert.match(noCheckpoint.message, /this run has no complete checkpoint yet/);
    const warnings: string[] = [];
    await train(config('none'), { resume: true, logger: { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} } });
    assert.ok(warnings.some((w) => /has no complete checkpoint \(the run stopped before its first\): training it from the beginning/.test(w)), warnings.join('\n'));
    assert.ok((await fs.readFile(path.join(run.checkpointsDir, 'epoch-0003', 'tensors.bin'))).equals(finalTensors));
    const nowhere = await rejection(resumeTarget(outDir));
    assert.equal(nowhere.code, 'FILE_NOT_FOUND');
  });
});
