/**
 * run.json after a kill: a trainer killed outright (SIGKILL, OOM) leaves `status: "running"`; the
 * next look reports it as killed, a resume records that, and a second trainer on a run whose
 * trainer is alive is refused (issue 16).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../src/core/errors';
import { RunFolder } from '../../src/run/run-folder';
import { currentRunInfo, readRunInfo } from '../../src/run/run-info';
import { train } from '../../src/train/trainer';

let outDir: string;

function config(name: string) {
  return {
    name,
    outDir,
    model: { family: 'ae', architecture: 'mlp', hiddenSizes: [8], latentSize: 2 },
    data: { dataset: { name: 'mnist', limit: 60 } },
    train: { epochs: 1, batchSize: 20, backend: 'wasm' },
  };
}

async function markRunning(folder: RunFolder, fields: Record<string, unknown>): Promise<void> {
  const info = await readRunInfo(folder);
  await folder.writeJson(folder.runInfoPath, { ...info, status: 'running', finishedAt: undefined, ...fields });
}

describe('run/run-info: a trainer that is gone is reported as killed', function () {
  this.timeout(120_000);
  let folder: RunFolder;

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-runinfo-'));
    folder = new RunFolder((await train(config('r'))).runDir);
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  it('records its pid and host; "running" with a dead pid reads as killed, and a fresh start says so', async () => {
    const finished = await readRunInfo(folder);
    assert.equal(finished?.pid, process.pid);
    assert.equal(finished?.host, os.hostname());
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => child.on('close', resolve));
    await markRunning(folder, { pid: child.pid });
    assert.equal((await currentRunInfo(folder))?.status, 'killed');
    await assert.rejects(train(config('r')), (error: AekitError) => {
      assert.equal(error.code, 'ALREADY_EXISTS');
      assert.match(error.message, new RegExp(`a run with this name exists \\(killed: process ${child.pid} on ${os.hostname()} stopped without recording why \\(SIGKILL, out of memory or a power cut\\)\\); pass --resume`));
      return true;
    });
  });

  it('a resume after the kill warns and keeps the word in run.json', async () => {
    const warnings: string[] = [];
    await train({ ...config('r'), train: { ...config('r').train, epochs: 2 } }, { resume: true, logger: { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} } });
    assert.ok(warnings.some((w) => /^the last run was killed: process \d+ on .* stopped without recording why/.test(w)), warnings.join('\n'));
    const info = await readRunInfo(folder);
    assert.equal(info?.status, 'finished');
    assert.equal((info?.previous as { status: string }).status, 'killed');
  });

  it('a trainer still alive on this host is not run over: a second one is refused, naming its pid', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await markRunning(folder, { pid: sleeper.pid, host: os.hostname() });
      assert.equal((await currentRunInfo(folder))?.status, 'running');
      await assert.rejects(train({ ...config('r'), train: { ...config('r').train, epochs: 3 } }, { resume: true }), new RegExp(`being trained by process ${sleeper.pid} on this host`));
      await assert.rejects(train(config('r'), { overwrite: true }), /being trained by process/);
    } finally {
      sleeper.kill();
    }
  });

  it('a trainer on another host cannot be checked: resume warns and goes on', async () => {
    await markRunning(folder, { pid: 1, host: 'some-other-node' });
    assert.equal((await currentRunInfo(folder))?.status, 'running');
    const warnings: string[] = [];
    await train({ ...config('r'), train: { ...config('r').train, epochs: 3 } }, { resume: true, logger: { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} } });
    assert.ok(warnings.some((w) => /says process 1 on some-other-node is training this run; this host cannot check/.test(w)), warnings.join('\n'));
    assert.equal((await readRunInfo(folder))?.status, 'finished');
  });
});
