/**
 * Training throughput (samples/s) and peak memory of the training engines, side by side with
 * PyTorch CPU on the same models, in one sitting. Every measurement runs in a process of its own,
 * so each peak RSS is that run's alone:
 *   - tfjs engine and ort engine: the real trainer (`train()`); warm-up steps are excluded; ort at
 *     each thread count of --ort-threads.
 *   - PyTorch: ../shared/reference/vae_torch_train.py (the pytorch/examples MNIST VAE),
 *     bench/conv_vae_torch.py (the quickstart conv VAE) and bench/dcgan_torch.py (the DCGAN
 *     tutorial at 64x64x3), run with /usr/bin/python3 (python3-torch).
 * Cases: `mlp` and `conv` train on MNIST; `dcgan` on a folder of seeded random 64x64 RGB PNGs
 * (throughput does not depend on the pixels), with the tutorial's Adam (2e-4, betas 0.5, 0.999).
 * Rounds (--rounds) repeat the whole sweep, interleaved (contenders in reverse order every other
 * round), so that a change of machine load hits every contender; the summary gives each
 * contender's median and spread (min-max) over the rounds, the load averages, the PyTorch build
 * (BLAS, oneDNN) and the machine's sgemm rate (bench/torch_info.py), and each model's effective
 * GFLOP/s: the useful FLOPs of a training step (counted below, the same for every contender) per
 * second.
 *
 * Usage: npm run bench:train -- [--cases mlp,conv,dcgan] [--engines torch,ort] [--ort-threads 1,2] [--torch-threads 1]
 *          [--ort-parallel auto] [--rounds 3] [--tfjs-steps 12] [--ort-steps 150] [--dcgan-steps 8] [--json out.json]
 * (`--ort-parallel auto,intra-op` adds, at 2+ threads, the ort engine with `train.ortParallel`
 * 'intra-op' beside what 'auto' picks: batch shards for the conv models that allow them.)
 * (`--engines torch,tfjs,ort` adds the tfjs engine on the wasm backend.)
 * Figures and the exact command: docs/benchmarks.md, section "Training".
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { Rng } from '../src/core/rng';
import { train } from '../src/train/trainer';

interface Case {
  key: string;
  label: string;
  model: Record<string, unknown>;
  batchSize: number;
  /** Extra `train` settings (the optimiser of the yardstick). */
  train?: Record<string, unknown>;
  /** Useful FLOPs of one training step per sample (see {@link convMacs}); the same for every contender. */
  flopsPerSample: number;
  /** PyTorch equivalent: the script and its arguments given the number of timed steps. */
  torch?: { script: string; args: (steps: number) => string[] };
}

const REFERENCE_SCRIPT = path.resolve(__dirname, '../../shared/reference/vae_torch_train.py');
const PYTHON = '/usr/bin/python3';
/** Steps before timing starts: session start-up, first-call allocations, JIT. */
const WARMUP_STEPS = 3;
/** The DCGAN step is ~100x the MLP's: two warm-up steps are enough and save seconds. */
const DCGAN_WARMUP_STEPS = 2;
const DCGAN_SIZE = 64;

/** Multiply-adds of a dense layer, per sample. */
const denseMacs = (inputs: number, outputs: number): number => inputs * outputs;
/** Multiply-adds of a k x k convolution, per sample (for a transposed one, pass its input size as `out`). */
const convMacs = (out: number, cin: number, cout: number, k = 4): number => out * out * cin * cout * k * k;

/**
 * FLOPs of a training step per sample: a layer's forward costs 2 x its multiply-adds, its backward
 * twice that (input and weight gradients), so fwd + bwd = 6 x MACs. Elementwise work, BatchNorm and
 * the optimiser are left out (small next to the matrix products).
 */
const stepFlops = (macs: number): number => 6 * macs;

/** VAE 784-400-20: encoder 784->400, mu and logvar 400->20, decoder 20->400->784. */
const MLP_MACS = denseMacs(784, 400) + 2 * denseMacs(400, 20) + denseMacs(20, 400) + denseMacs(400, 784);
/** Quickstart conv VAE: conv 1->32 (14x14), 32->64 (7x7), mu/logvar 3136->16, 16->3136, deconv 64->32 (from 7x7), 32->1 (from 14x14). */
const CONV_MACS = convMacs(14, 1, 32) + convMacs(7, 32, 64) + 2 * denseMacs(3136, 16) + denseMacs(16, 3136) + convMacs(7, 64, 32) + convMacs(14, 32, 1);
/** DCGAN generator at 64x64x3: z 100 -> 4x4x512, then deconvs from 4, 8, 16, 32 pixels. */
const DCGAN_G_MACS = denseMacs(100, 4 * 4 * 512) + convMacs(4, 512, 256) + convMacs(8, 256, 128) + convMacs(16, 128, 64) + convMacs(32, 64, 3);
/** DCGAN discriminator: convs to 32, 16, 8, 4 pixels, then the 4x4x512 -> 1 logit. */
const DCGAN_D_MACS = convMacs(32, 3, 64) + convMacs(16, 64, 128) + convMacs(8, 128, 256) + convMacs(4, 256, 512) + denseMacs(4 * 4 * 512, 1);
/**
 * The tutorial's step per image: G forward + backward once (3 passes of G); D forward on the real
 * and the fake image and backward of both, then forward and backward on the fake again for G's
 * loss (9 passes of D). In MACs x 2 = FLOPs.
 */
const DCGAN_STEP_FLOPS = 2 * (3 * DCGAN_G_MACS + 9 * DCGAN_D_MACS);

const CASES: Case[] = [
  {
    key: 'mlp',
    label: 'vae mlp 784-400-20, batch 128 (pytorch/examples)',
    model: { family: 'vae', architecture: 'mlp', hiddenSizes: [400], latentSize: 20 },
    batchSize: 128,
    flopsPerSample: stepFlops(MLP_MACS),
    // The reference times a pass over N images; 60,000 (its default) keep a run near 5 s.
    torch: { script: REFERENCE_SCRIPT, args: () => ['60000'] },
  },
  {
    key: 'conv',
    label: 'vae conv [32,64] latent 16, batch 64 (quickstart)',
    model: { family: 'vae', architecture: 'conv', convChannels: [32, 64], latentSize: 16 },
    batchSize: 64,
    flopsPerSample: stepFlops(CONV_MACS),
    // The conv model is ~10x the MLP's work per image; 6,400 images keep a run near 5 s.
    torch: { script: path.resolve(__dirname, 'conv_vae_torch.py'), args: () => ['6400'] },
  },
  {
    key: 'dcgan',
    label: 'dcgan 64x64x3, nz 100, ngf = ndf = 64, batch 64 (PyTorch tutorial)',
    model: { family: 'dcgan', latentSize: 100, generatorFeatures: 64, discriminatorFeatures: 64 },
    batchSize: 64,
    train: { learningRate: 2e-4, adam: { beta1: 0.5, beta2: 0.999 } },
    flopsPerSample: DCGAN_STEP_FLOPS,
    torch: { script: path.resolve(__dirname, 'dcgan_torch.py'), args: (steps) => [String(64 * (steps + DCGAN_WARMUP_STEPS)), String(DCGAN_WARMUP_STEPS)] },
  },
  { key: 'ae', label: 'ae conv [32,64] latent 16, batch 64', model: { family: 'ae', convChannels: [32, 64], latentSize: 16 }, batchSize: 64, flopsPerSample: NaN },
  { key: 'cvae', label: 'cvae conv [32,64] latent 16, batch 64', model: { family: 'cvae', convChannels: [32, 64], latentSize: 16 }, batchSize: 64, flopsPerSample: NaN },
  { key: 'classifier', label: 'classifier (FID network), batch 64', model: { family: 'classifier' }, batchSize: 64, flopsPerSample: NaN },
];

interface Measurement {
  case: string;
  contender: string;
  samplesPerSecond: number;
  peakRssMiB: number;
  detail: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

/** A folder of `n` seeded random RGB PNGs (the DCGAN case's data). */
async function randomImageFolder(dir: string, n: number, size: number): Promise<void> {
  const rng = Rng.derive(0, 'bench-train-dcgan');
  await fs.mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const png = new PNG({ width: size, height: size, colorType: 6 });
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < 3; c++) png.data[4 * p + c] = Math.floor(rng.next() * 256);
      png.data[4 * p + 3] = 255;
    }
    await fs.writeFile(path.join(dir, `${String(i).padStart(5, '0')}.png`), PNG.sync.write(png));
  }
}

/** The data spec of a case for `steps` steps of its batch size. */
function dataOf(c: Case, steps: number, folder: string): Record<string, unknown> {
  const images = c.batchSize * (steps + 1);
  if (c.key !== 'dcgan') return { dataset: { name: 'mnist', limit: images } };
  return { dataset: { name: 'folder', path: folder, height: DCGAN_SIZE, width: DCGAN_SIZE, channels: 3, limit: images }, valueRange: 'symmetric' };
}

/** Child mode: one trainer run; prints a JSON line with samples/s and this process's peak RSS. */
async function child(caseKey: string, engine: string, steps: number, threads: number | undefined, parallel: string, folder: string): Promise<void> {
  const c = CASES.find((x) => x.key === caseKey)!;
  const warmup = c.key === 'dcgan' ? DCGAN_WARMUP_STEPS : WARMUP_STEPS;
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-train-'));
  const times: number[] = [];
  let last = 0;
  let how = '';
  try {
    await train(
      {
        name: `${c.key}-${engine}`,
        outDir,
        model: c.model,
        data: dataOf(c, steps, folder),
        train: { epochs: 1, batchSize: c.batchSize, stepsPerEpoch: steps, validationFraction: 0, backend: 'wasm', engine, ortThreads: threads, ...(engine === 'ort' ? { ortParallel: parallel } : {}), logEvery: 1000, ...c.train },
      },
      {
        overwrite: true,
        onEvent: (e) => {
          if (e.type === 'start') how = e.engineDetail ?? '';
          if (e.type !== 'step') return;
          const now = performance.now();
          if (e.step > warmup) times.push(now - last);
          last = now;
        },
      },
    );
  } finally {
    await fs.rm(outDir, { recursive: true, force: true });
  }
  const seconds = times.reduce((a, b) => a + b, 0) / 1000;
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  // resourceUsage().maxRSS is in KiB.
  console.log(JSON.stringify({ samplesPerSecond: (times.length * c.batchSize) / seconds, medianStepMs: median, peakRssMiB: process.resourceUsage().maxRSS / 1024, steps: times.length, sharded: how.includes('batch shards') }));
}

function runNodeChild(c: Case, engine: string, steps: number, folder: string, threads?: number, parallel = 'auto'): Measurement {
  const args = ['--import', 'tsx', __filename, '--child', c.key, '--engine', engine, '--steps', String(steps), '--folder', folder, '--parallel', parallel, ...(threads ? ['--threads', String(threads)] : [])];
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const result = JSON.parse(out.trim().split('\n').pop()!) as { samplesPerSecond: number; medianStepMs: number; peakRssMiB: number; steps: number; sharded: boolean };
  const how = result.sharded ? ', 2 shards' : parallel === 'intra-op' ? ', intra-op' : '';
  const contender = engine === 'ort' ? `aekit ort (${threads ?? 'default'} threads${how})` : 'aekit tfjs (wasm)';
  return { case: c.key, contender, samplesPerSecond: result.samplesPerSecond, peakRssMiB: result.peakRssMiB, detail: `${result.steps} timed steps, median step ${result.medianStepMs.toFixed(1)} ms` };
}

function runTorch(c: Case, steps: number, threads: number): Measurement | undefined {
  if (!c.torch) return undefined;
  // /usr/bin/time -f %M prints the peak RSS (KiB) of the script on stderr's last line. torch takes
  // its thread count from OMP_NUM_THREADS.
  const env = { ...process.env, OMP_NUM_THREADS: String(threads) };
  const run = spawnSync('/usr/bin/time', ['-f', '%M', PYTHON, c.torch.script, ...c.torch.args(steps)], { encoding: 'utf8', cwd: path.resolve(__dirname, '..'), env });
  if (run.status !== 0) {
    console.log(`torch ${c.key}: skipped (${(run.stderr || run.error?.message || '').trim().split('\n').slice(-2).join(' ')})`);
    return undefined;
  }
  const match = /samples\/s=([\d.]+)/.exec(run.stdout);
  const rssKiB = Number(run.stderr.trim().split('\n').pop());
  return { case: c.key, contender: `pytorch cpu (${threads} thread${threads > 1 ? 's' : ''})`, samplesPerSecond: Number(match?.[1] ?? NaN), peakRssMiB: rssKiB / 1024, detail: run.stdout.trim() };
}

/** bench/torch_info.py's JSON line (PyTorch build and sgemm rate), or undefined without torch. */
function torchInfo(): Record<string, unknown> | undefined {
  const run = spawnSync(PYTHON, [path.resolve(__dirname, 'torch_info.py')], { encoding: 'utf8' });
  if (run.status !== 0) return undefined;
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    const threads = arg('threads', '');
    await child(arg('child', ''), arg('engine', 'ort'), Number(arg('steps', '50')), threads ? Number(threads) : undefined, arg('parallel', 'auto'), arg('folder', ''));
    return;
  }
  const cases = arg('cases', 'mlp,conv,dcgan').split(',').map((k) => {
    const c = CASES.find((x) => x.key === k);
    if (!c) throw new Error(`unknown case '${k}' (cases: ${CASES.map((x) => x.key).join(', ')})`);
    return c;
  });
  const engines = arg('engines', 'torch,ort').split(',');
  const ortThreads = arg('ort-threads', '1,2').split(',').map(Number);
  const ortParallel = arg('ort-parallel', 'auto').split(',');
  const torchThreads = arg('torch-threads', '1').split(',').map(Number);
  const rounds = Number(arg('rounds', '3'));
  const tfjsSteps = Number(arg('tfjs-steps', '12'));
  const ortSteps = Number(arg('ort-steps', '150'));
  const dcganSteps = Number(arg('dcgan-steps', '8'));
  const torchAvailable = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

  const loadStart = load();
  console.log(`${new Date().toISOString()}  machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load average ${loadStart}`);
  const info = engines.includes('torch') && torchAvailable ? torchInfo() : undefined;
  if (engines.includes('torch') && !torchAvailable) console.log('pytorch: skipped (/usr/bin/python3 cannot import torch; apt-get install python3-torch libopenblas0-pthread: without OpenBLAS, Debian torch runs on the reference BLAS, ~5x slower)');
  if (info) console.log(`pytorch build: ${JSON.stringify(info)}`);

  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-train-dcgan-'));
  const all: Measurement[] = [];
  try {
    if (cases.some((c) => c.key === 'dcgan')) {
      // Enough for the longest run after the 90/10 hold-out split of a folder.
      await randomImageFolder(folder, Math.ceil((64 * (dcganSteps + DCGAN_WARMUP_STEPS + 2)) / 0.9), DCGAN_SIZE);
    }
    for (let round = 1; round <= rounds; round++) {
      for (const c of cases) {
        const dcgan = c.key === 'dcgan';
        const contenders: (() => Measurement | undefined)[] = [];
        if (engines.includes('torch') && torchAvailable) for (const t of torchThreads) contenders.push(() => runTorch(c, dcganSteps, t));
        if (engines.includes('tfjs')) contenders.push(() => runNodeChild(c, 'tfjs', (dcgan ? DCGAN_WARMUP_STEPS : WARMUP_STEPS) + (dcgan ? Math.min(2, tfjsSteps) : tfjsSteps), folder));
        // One thread has nothing to spread: only 'auto' runs there.
        const ortRuns = ortThreads.flatMap((t) => (t === 1 ? [[t, 'auto'] as const] : ortParallel.map((p) => [t, p] as const)));
        if (engines.includes('ort')) for (const [t, p] of ortRuns) contenders.push(() => runNodeChild(c, 'ort', dcgan ? DCGAN_WARMUP_STEPS + dcganSteps : WARMUP_STEPS + ortSteps, folder, t, p));
        // Every other round in reverse order, so no contender always runs right after another.
        if (round % 2 === 0) contenders.reverse();
        for (const run of contenders) {
          const m = run();
          if (!m) continue;
          all.push(m);
          console.log(`round ${round}  ${c.key.padEnd(5)} ${m.contender.padEnd(24)} ${m.samplesPerSecond.toFixed(1).padStart(8)} samples/s  peak RSS ${m.peakRssMiB.toFixed(0).padStart(5)} MiB  load ${load()}  (${m.detail})`);
        }
      }
    }
  } finally {
    await fs.rm(folder, { recursive: true, force: true });
  }
  const loadEnd = load();

  const sgemm = (info?.sgemmGflops as Record<string, number> | undefined) ?? {};
  const sgemm1 = sgemm['2048x2048, 1 thread'];
  console.log(`\nmedian (min-max) of ${rounds} round(s); load average at start ${loadStart}, at end ${loadEnd}`);
  if (sgemm1) console.log(`sgemm (PyTorch's BLAS, 2048x2048): ${sgemm1} GFLOP/s on 1 thread, ${sgemm['2048x2048, 2 threads']} on 2`);
  console.log('| model | contender | samples/s, median (min-max) | x PyTorch (median, its best thread count) | GFLOP/s (step FLOPs x samples/s) | % of 1-thread sgemm | peak RSS (MiB) |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const c of cases) {
    const byContender = new Map<string, Measurement[]>();
    for (const m of all.filter((x) => x.case === c.key)) byContender.set(m.contender, [...(byContender.get(m.contender) ?? []), m]);
    // The yardstick: PyTorch at its best thread count (by median).
    const torchRuns = [...byContender].filter(([name]) => name.startsWith('pytorch')).map(([, ms]) => ms);
    const torch = torchRuns.sort((a, b) => median(b.map((m) => m.samplesPerSecond)) - median(a.map((m) => m.samplesPerSecond)))[0];
    const torchMedian = torch ? median(torch.map((m) => m.samplesPerSecond)) : undefined;
    for (const [contender, ms] of byContender) {
      const rates = ms.map((m) => m.samplesPerSecond);
      const med = median(rates);
      const gflops = (med * c.flopsPerSample) / 1e9;
      const ratio = torchMedian ? (med / torchMedian).toFixed(2) : '-';
      const ofSgemm = sgemm1 && Number.isFinite(gflops) ? `${((100 * gflops) / sgemm1).toFixed(0)}%` : '-';
      const rss = Math.max(...ms.map((m) => m.peakRssMiB));
      console.log(`| ${c.label} | ${contender} | ${fmt(med)} (${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))}) | ${ratio} | ${Number.isFinite(gflops) ? gflops.toFixed(1) : '-'} | ${ofSgemm} | ${rss.toFixed(0)} |`);
    }
  }
  const counted = cases.filter((c) => Number.isFinite(c.flopsPerSample));
  if (counted.length) console.log(`\nstep FLOPs per sample: ${counted.map((c) => `${c.key} ${(c.flopsPerSample / 1e6).toFixed(1)} M`).join(', ')}`);
  const json = process.argv.includes('--json') ? arg('json', '') : '';
  if (json) await fs.writeFile(json, JSON.stringify({ machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, torch: info, loadStart, loadEnd, measurements: all }, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
