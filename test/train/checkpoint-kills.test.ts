/**
 * No kill can strand a run (issue 16). `aekit train` (the built CLI) is killed with SIGKILL at
 * every point of its checkpoint writes (each of a run's three checkpoints, the first included, and
 * latest.json), while a checkpoint label is being replaced, in a resumed run, and at seeded random
 * times; then `aekit train --resume` (the command a user types) finishes it. Every trial must end
 * with weights and optimizer state byte-identical to a run never killed, the same epoch records,
 * run.json `finished` after reporting the kill, and no temporary file left. The counts go to
 * docs/reliability.md. `AEKIT_KILL_SCALE=n` runs n times the random-time trials.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KILL_AT_ENV } from '../../src/core/fault-point';
import { Rng } from '../../src/core/rng';
import { RunFolder } from '../../src/run/run-folder';
import type { EpochRecord } from '../../src/run/run-folder';
import { BIN } from '../cli/cli-helpers';

/** 108 training images in batches of 20: 6 steps per epoch, 3 epochs, a checkpoint after each. */
function recipe(outDir: string, engine: 'auto' | 'tfjs') {
  return {
    name: 'unused',
    outDir,
    model: { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2 },
    data: { dataset: { name: 'mnist', limit: 120 } },
    train: { epochs: 3, batchSize: 20, seed: 3, logEvery: 1, backend: 'wasm', engine },
  };
}

/** Where each checkpoint write can be cut (src/run/checkpoint.ts, src/core/atomic-write.ts). */
const CHECKPOINT_POINTS = ['checkpoint:tensors-partial', 'checkpoint:tensors', 'checkpoint:manifest', 'checkpoint:renamed', 'write:latest.json'];

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

/**
 * Run `aekit train args`: killed at the fault point `killAt`, or with SIGKILL after `killAfterMs`,
 * or sent SIGTERM once it prints its start line (`termAtStart`).
 */
function aekitTrain(args: string[], opts: { killAt?: string; killAfterMs?: number; termAtStart?: boolean } = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const env = { ...process.env, CI: '1', [KILL_AT_ENV]: opts.killAt ?? '' };
    const child = spawn(process.execPath, [BIN, 'train', ...args], { env });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (opts.termAtStart && /parameters;/.test(stderr) && !child.killed) child.kill('SIGTERM');
    });
    child.stdout.resume();
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(watchdog);
      resolve({ code, signal, stderr, ms: Date.now() - started });
    });
  });
}

/** Every file and folder under `dir`, relative to it. */
async function listAll(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

/** What a run ends with: final tensors and epoch figures (times left out). */
async function outcome(runDir: string): Promise<{ tensors: Buffer; epochs: Pick<EpochRecord, 'epoch' | 'step' | 'train' | 'validation'>[] }> {
  const records = (await new RunFolder(runDir).readMetrics()).filter((r): r is EpochRecord => r.kind === 'epoch');
  return {
    tensors: await fs.readFile(path.join(runDir, 'checkpoints', 'epoch-0003', 'tensors.bin')),
    epochs: records.map(({ epoch, step, train, validation }) => ({ epoch, step, train, validation })),
  };
}

describe('train: SIGKILL at any point of a run never strands it (built CLI) @slow', function () {
  this.timeout(1_800_000);
  let dir: string;
  const references: Record<string, { outcome: Awaited<ReturnType<typeof outcome>>; ms: number }> = {};
  const counts = { trials: 0, kills: 0 };

  async function configFile(engine: 'auto' | 'tfjs'): Promise<string> {
    const file = path.join(dir, `recipe-${engine}.json`);
    await fs.writeFile(file, JSON.stringify(recipe(dir, engine)));
    return file;
  }

  /**
   * One trial: each entry of `kills` stops one process (the first a fresh start, the rest
   * resumes), then a last `--resume` finishes the run; it must match the engine's reference.
   */
  async function trial(name: string, engine: 'auto' | 'tfjs', kills: ({ killAt: string } | { killAfterMs: number } | { termAtStart: true; killAt?: string })[], check?: (runDir: string, i: number) => Promise<void>): Promise<number> {
    const runDir = path.join(dir, name);
    const config = await configFile(engine);
    let killed = 0;
    for (const [i, kill] of kills.entries()) {
      const started = await new RunFolder(runDir).exists();
      const exit = await aekitTrain(started ? ['--resume', runDir] : ['--config', config, '--name', name], kill);
      if ('killAfterMs' in kill) {
        // A random time may fall after the run ends: then there was nothing to kill.
        if (exit.signal === 'SIGKILL') killed += 1;
        else assert.equal(exit.code, 0, exit.stderr);
      } else if ('termAtStart' in kill && !kill.killAt) {
        assert.equal(exit.code, 0, exit.stderr);
      } else {
        assert.equal(exit.signal, 'SIGKILL', `${name}: expected a kill at ${kill.killAt}, got exit ${exit.code}: ${exit.stderr}`);
        killed += 1;
      }
      await check?.(runDir, i);
    }
    const started = await new RunFolder(runDir).exists();
    const last = await aekitTrain(started ? ['--resume', runDir] : ['--config', config, '--name', name]);
    assert.equal(last.code, 0, `${name}: the resume failed: ${last.stderr}`);
    const got = await outcome(runDir);
    const want = references[engine].outcome;
    assert.ok(got.tensors.equals(want.tensors), `${name}: final weights differ from the run never killed`);
    assert.deepEqual(got.epochs, want.epochs, `${name}: epoch records differ from the run never killed`);
    const info = JSON.parse(await fs.readFile(path.join(runDir, 'run.json'), 'utf8')) as { status: string; previous?: { status: string } };
    assert.equal(info.status, 'finished');
    const leftovers = (await listAll(runDir)).filter((p) => /\.tmp$|\.(tmp|old)-\d+-\d+/.test(p));
    assert.deepEqual(leftovers, [], `${name}: temporary files left behind`);
    counts.trials += 1;
    counts.kills += killed;
    return killed;
  }

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-kills-'));
    for (const engine of ['auto', 'tfjs'] as const) {
      const exit = await aekitTrain(['--config', await configFile(engine), '--name', `reference-${engine}`]);
      assert.equal(exit.code, 0, exit.stderr);
      references[engine] = { outcome: await outcome(path.join(dir, `reference-${engine}`)), ms: exit.ms };
    }
  });
  after(async () => {
    process.stdout.write(`      kill trials: ${counts.trials} trials, ${counts.kills} SIGKILLs survived, each resumed to byte-identical weights\n`);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('killed at each step of each checkpoint write (the first included) and of latest.json: resume finds the newest complete checkpoint', async () => {
    for (const point of CHECKPOINT_POINTS) {
      for (const n of [1, 2, 3]) {
        await trial(`${point.replace(':', '-')}-${n}`, 'auto', [{ killAt: `${point}@${n}` }], async (runDir) => {
          const names = await fs.readdir(path.join(runDir, 'checkpoints')).catch(() => [] as string[]);
          if (point === 'checkpoint:renamed' && n === 1) {
            // The case: epoch-0001/ complete, latest.json never written.
            assert.ok(names.includes('epoch-0001'), names.join(', '));
            assert.ok(!names.includes('latest.json'), names.join(', '));
          }
          if (point === 'checkpoint:tensors') assert.ok(names.some((name) => name.startsWith(`epoch-000${n}.tmp-`)), `a half-written folder: ${names.join(', ')}`);
        });
      }
    }
  });

  it('killed in a resumed run: while it cuts metrics.jsonl back, while it writes run.json, in its next checkpoint', async () => {
    await trial('resumed', 'auto', [{ killAt: 'checkpoint:renamed@1' }, { killAt: 'write:metrics.jsonl@1' }, { killAt: 'write:run.json@1' }, { killAt: 'checkpoint:manifest@1' }]);
  });

  it('killed while a checkpoint label is replaced (interrupted twice): both folders are whole and the newer one is restored', async () => {
    await trial('replaced', 'tfjs', [{ termAtStart: true }, { termAtStart: true, killAt: 'checkpoint:aside@1' }], async (runDir, i) => {
      if (i !== 1) return;
      const names = await fs.readdir(path.join(runDir, 'checkpoints'));
      assert.ok(!names.includes('interrupted'), names.join(', '));
      assert.ok(names.some((n) => n.startsWith('interrupted.old-')) && names.some((n) => n.startsWith('interrupted.tmp-')), names.join(', '));
    });
  });

  it('killed at seeded random times (startup, steps, validation, figures, checkpoints)', async () => {
    const scale = Number(process.env.AEKIT_KILL_SCALE ?? 1);
    const rng = Rng.derive(20261203, 'kill-trials');
    for (let i = 0; i < 6 * scale; i++) {
      const engine = i % 2 === 0 ? 'tfjs' : 'auto';
      // Two kills per trial: the second lands in the resumed run.
      const delays = [rng.next(), rng.next()].map((u) => Math.round(u * references[engine].ms));
      await trial(`random-${i}`, engine, delays.map((killAfterMs) => ({ killAfterMs })));
    }
  });
});
