import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAekitError } from '../../src/core/errors';
import { RUN_EXPORT_FOLDER, RunFolder } from '../../src/run/run-folder';

describe('run: RunFolder finds and reads the files of a run', () => {
  let dir: string;
  let run: RunFolder;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-run-folder-'));
    run = new RunFolder(path.join(dir, 'r'));
    await run.create();
    await run.writeJson(run.configPath, { name: 'r', outDir: dir, model: { family: 'ae', architecture: 'mlp', hiddenSizes: [8], latentSize: 2 }, data: { dataset: { name: 'mnist', limit: 50 } }, train: { seed: 7 } });
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('readConfig: the config resolved with the defaults the trainer fills in', async () => {
    const config = await run.readConfig();
    assert.equal(config.model.family, 'ae');
    assert.deepEqual(config.data.dataset, { name: 'mnist', limit: 50 });
    assert.equal(config.train.seed, 7);
    assert.equal(config.train.epochs, 10);
  });

  it('readConfig: a config that does not resolve is a BAD_CONFIG naming the file', async () => {
    const bad = new RunFolder(path.join(dir, 'bad'));
    await bad.create();
    await bad.writeJson(bad.configPath, { name: 'bad', model: { family: 'ae' }, data: { dataset: { name: 'mnist' } }, train: { epochs: -1 } });
    await assert.rejects(bad.readConfig(), (e: unknown) => isAekitError(e) && e.code === 'BAD_CONFIG' && e.where === bad.configPath && /train\.epochs/.test(e.message));
    await assert.rejects(new RunFolder(path.join(dir, 'none')).readConfig(), (e: unknown) => isAekitError(e) && e.code === 'FILE_NOT_FOUND');
  });

  it('containing: the run a folder, its export folder or a file in it belongs to; none for loose files', async () => {
    await fs.mkdir(run.exportDir, { recursive: true });
    assert.equal(run.exportDir, path.join(run.dir, RUN_EXPORT_FOLDER));
    const artifact = path.join(run.exportDir, 'encoder.onnx');
    await fs.writeFile(artifact, '');
    for (const location of [run.dir, run.exportDir, artifact]) assert.equal((await RunFolder.containing(location))?.dir, run.dir, location);
    const loose = path.join(dir, 'loose');
    await fs.mkdir(loose);
    assert.equal(await RunFolder.containing(loose), undefined);
    assert.equal(await RunFolder.containing(path.join(dir, 'missing', 'x.onnx')), undefined);
  });

  it('exportedArtifacts: the .onnx files of the export folder, sorted; latestCheckpointTime: when latest.json was written', async () => {
    await fs.writeFile(path.join(run.exportDir, 'decoder.onnx'), '');
    await fs.writeFile(path.join(run.exportDir, 'notes.txt'), '');
    assert.deepEqual(await run.exportedArtifacts(), ['decoder.onnx', 'encoder.onnx'].map((n) => path.join(run.exportDir, n)));
    assert.deepEqual(await new RunFolder(path.join(dir, 'loose')).exportedArtifacts(), []);
    assert.equal(await run.latestCheckpointTime(), undefined);
    await fs.mkdir(run.checkpointsDir, { recursive: true });
    await fs.writeFile(run.latestCheckpointPath, '{"checkpoint": "final"}');
    const time = await run.latestCheckpointTime();
    assert.ok(time !== undefined && Math.abs(time - Date.now()) < 60_000, String(time));
  });
});
