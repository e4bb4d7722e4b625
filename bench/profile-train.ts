/**
 * Where an ort-engine training step spends its time: runs the real trainer (`train()`) on one of
 * bench/train.ts's models with onnxruntime's session profiler on (`enableProfiling`), then prints,
 * per compiled phase, the kernel time by operator type and the slowest nodes with their output
 * shapes. The figures of docs/benchmarks.md ("Where the time goes, and what 1.0x would take") come
 * from it.
 *
 * Profiling is switched on by wrapping onnxruntime-node's `InferenceSession.create` in this process
 * only (the product never profiles); the profiles are written when the trainer releases its
 * sessions, to a temporary folder that is removed afterwards.
 *
 * Usage: npx tsx bench/profile-train.ts <mlp|conv|dcgan> [steps=20] [threads=1] [--top 25]
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { Rng } from '../src/core/rng';
import { train } from '../src/train/trainer';

/** Steps left out of the step-time median (session start-up, first-call allocations). */
const WARMUP_STEPS = 3;

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown };
}

type CreateSession = (model: unknown, options?: Record<string, unknown>) => Promise<unknown>;

/** The model, batch, data and optimiser of each case (as bench/train.ts). */
function runConfig(which: string, steps: number, folder: string): Record<string, unknown> {
  switch (which) {
    case 'mlp':
      return { model: { family: 'vae', architecture: 'mlp', hiddenSizes: [400], latentSize: 20 }, batchSize: 128, data: { dataset: { name: 'mnist', limit: 128 * (steps + 1) } } };
    case 'conv':
      return { model: { family: 'vae', architecture: 'conv', convChannels: [32, 64], latentSize: 16 }, batchSize: 64, data: { dataset: { name: 'mnist', limit: 64 * (steps + 1) } } };
    case 'dcgan':
      return {
        model: { family: 'dcgan', latentSize: 100, generatorFeatures: 64, discriminatorFeatures: 64 },
        batchSize: 64,
        data: { dataset: { name: 'folder', path: folder, height: 64, width: 64, channels: 3, limit: 64 * (steps + 1) }, valueRange: 'symmetric' },
        train: { learningRate: 2e-4, adam: { beta1: 0.5, beta2: 0.999 } },
      };
    default:
      throw new Error(`unknown case '${which}' (cases: mlp, conv, dcgan)`);
  }
}

/** `n` seeded random 64x64 RGB PNGs (the DCGAN's data; throughput does not depend on the pixels). */
async function randomImages(dir: string, n: number): Promise<void> {
  const rng = Rng.derive(0, 'bench-profile-train');
  for (let i = 0; i < n; i++) {
    const png = new PNG({ width: 64, height: 64 });
    for (let p = 0; p < png.data.length; p++) png.data[p] = p % 4 === 3 ? 255 : Math.floor(rng.next() * 256);
    await fs.writeFile(path.join(dir, `${String(i).padStart(5, '0')}.png`), PNG.sync.write(png));
  }
}

/** Prints one session's profile: kernel time per run by operator type, and the slowest nodes. */
function report(file: string, events: ProfileEvent[], top: number): void {
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const timed = runs.slice(WARMUP_STEPS);
  const perRun = (us: number) => (us / runs.length / 1000).toFixed(2).padStart(8);
  const byOp = new Map<string, number>();
  const byNode = new Map<string, number>();
  let total = 0;
  for (const e of kernels) {
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    const node = `${op} ${e.name.replace(/_kernel_time$/, '')} ${JSON.stringify(e.args?.output_type_shape ?? '')}`;
    byNode.set(node, (byNode.get(node) ?? 0) + e.dur);
    total += e.dur;
  }
  const runMs = timed.reduce((a, e) => a + e.dur, 0) / Math.max(1, timed.length) / 1000;
  console.log(`\n${file}: ${runs.length} runs, session.run ${runMs.toFixed(2)} ms (mean after ${WARMUP_STEPS}), kernels ${perRun(total).trim()} ms per run, ${kernels.length / runs.length} kernels per run`);
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`  ${op.padEnd(22)} ${perRun(us)} ms  ${((100 * us) / total).toFixed(1)}%`);
  console.log('  slowest nodes:');
  for (const [node, us] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${perRun(us)} ms  ${node.slice(0, 200)}`);
}

async function main(): Promise<void> {
  const [which = 'conv', stepsArg = '20', threadsArg = '1'] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--top');
  const topAt = process.argv.indexOf('--top');
  const top = topAt >= 0 ? Number(process.argv[topAt + 1]) : 25;
  const steps = Number(stepsArg);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-profile-train-'));
  const folder = path.join(tmp, 'images');
  const profiles = path.join(tmp, 'profiles');
  await fs.mkdir(folder);
  await fs.mkdir(profiles);
  try {
    const { model, batchSize, data, train: extra } = runConfig(which, steps, folder) as { model: unknown; batchSize: number; data: unknown; train?: Record<string, unknown> };
    if (which === 'dcgan') await randomImages(folder, Math.ceil((64 * (steps + 2)) / 0.9));
    const sessions = (ortNode as unknown as { InferenceSession: { create: CreateSession } }).InferenceSession;
    const create = sessions.create.bind(sessions);
    sessions.create = (bytes, options) => create(bytes, { ...options, enableProfiling: true, profileFilePrefix: path.join(profiles, which) });
    const times: number[] = [];
    let last = 0;
    await train(
      { name: `profile-${which}`, outDir: path.join(tmp, 'run'), model, data, train: { epochs: 1, batchSize, stepsPerEpoch: steps, validationFraction: 0, engine: 'ort', ortThreads: Number(threadsArg), logEvery: 1000, ...extra } },
      {
        overwrite: true,
        onEvent: (e) => {
          if (e.type !== 'step') return;
          const now = performance.now();
          if (e.step > WARMUP_STEPS) times.push(now - last);
          last = now;
        },
      },
    );
    times.sort((a, b) => a - b);
    console.log(`${which}, ${threadsArg} thread(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}: median step ${times[Math.floor(times.length / 2)].toFixed(2)} ms over ${times.length} steps (the trainer's, session.run included)`);
    for (const file of (await fs.readdir(profiles)).sort()) {
      report(file, JSON.parse(await fs.readFile(path.join(profiles, file), 'utf8')) as ProfileEvent[], top);
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
