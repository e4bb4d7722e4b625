/**
 * Training throughput (samples/s) and peak memory of the training engines, side by side with
 * PyTorch CPU on the same models, in one sitting. Every measurement runs in a process of its own,
 * so each peak RSS is that run's alone:
 *   - tfjs engine and ort engine: the real trainer (`train()`) on a slice of MNIST; warm-up steps
 *     are excluded; ort at each thread count of --ort-threads.
 *   - PyTorch: ../shared/reference/vae_torch_train.py (the pytorch/examples MNIST VAE) and
 *     bench/conv_vae_torch.py (the quickstart conv VAE), run with /usr/bin/python3 (python3-torch).
 * Rounds (--rounds) repeat the whole sweep, interleaved, so that a change of machine load hits
 * every contender; the table reports each contender's best round and the load averages.
 *
 * Usage: npm run bench:train -- [--cases mlp,conv] [--engines torch,tfjs,ort] [--ort-threads 1,2]
 *          [--rounds 2] [--tfjs-steps 12] [--ort-steps 150] [--json out.json]
 * Figures and the exact command: docs/benchmarks.md, section "Training".
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { train } from '../src/train/trainer';

interface Case {
  key: string;
  label: string;
  model: Record<string, unknown>;
  batchSize: number;
  /** PyTorch equivalent: script and images per run (the reference's own default for the MLP). */
  torch?: { script: string; images: number };
}

const REFERENCE_SCRIPT = path.resolve(__dirname, '../../shared/reference/vae_torch_train.py');

const CASES: Case[] = [
  {
    key: 'mlp',
    label: 'vae mlp 784-400-20, batch 128 (pytorch/examples)',
    model: { family: 'vae', architecture: 'mlp', hiddenSizes: [400], latentSize: 20 },
    batchSize: 128,
    torch: { script: REFERENCE_SCRIPT, images: 60000 },
  },
  {
    key: 'conv',
    label: 'vae conv [32,64] latent 16, batch 64 (quickstart)',
    model: { family: 'vae', architecture: 'conv', convChannels: [32, 64], latentSize: 16 },
    batchSize: 64,
    // The conv model is ~10x the MLP's work per image; 6,400 images keep a run near 10 s.
    torch: { script: path.resolve(__dirname, 'conv_vae_torch.py'), images: 6400 },
  },
  { key: 'ae', label: 'ae conv [32,64] latent 16, batch 64', model: { family: 'ae', convChannels: [32, 64], latentSize: 16 }, batchSize: 64 },
  { key: 'cvae', label: 'cvae conv [32,64] latent 16, batch 64', model: { family: 'cvae', convChannels: [32, 64], latentSize: 16 }, batchSize: 64 },
  { key: 'classifier', label: 'classifier (FID network), batch 64', model: { family: 'classifier' }, batchSize: 64 },
];

/** Steps before timing starts: session start-up, first-call allocations, JIT. */
const WARMUP_STEPS = 3;
const PYTHON = '/usr/bin/python3';

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

/** Child mode: one trainer run; prints a JSON line with samples/s and this process's peak RSS. */
async function child(caseKey: string, engine: string, steps: number, threads: number | undefined): Promise<void> {
  const c = CASES.find((x) => x.key === caseKey)!;
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-train-'));
  const times: number[] = [];
  let last = 0;
  try {
    await train(
      {
        name: `${c.key}-${engine}`,
        outDir,
        model: c.model,
        data: { dataset: { name: 'mnist', limit: c.batchSize * (steps + 1) } },
        train: { epochs: 1, batchSize: c.batchSize, stepsPerEpoch: steps, validationFraction: 0, backend: 'wasm', engine, ortThreads: threads, logEvery: 1000 },
      },
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
  } finally {
    await fs.rm(outDir, { recursive: true, force: true });
  }
  const seconds = times.reduce((a, b) => a + b, 0) / 1000;
  // resourceUsage().maxRSS is in KiB.
  console.log(JSON.stringify({ samplesPerSecond: (times.length * c.batchSize) / seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, steps: times.length }));
}

function runNodeChild(c: Case, engine: string, steps: number, threads?: number): Measurement {
  const args = ['--import', 'tsx', __filename, '--child', c.key, '--engine', engine, '--steps', String(steps), ...(threads ? ['--threads', String(threads)] : [])];
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const result = JSON.parse(out.trim().split('\n').pop()!) as { samplesPerSecond: number; peakRssMiB: number; steps: number };
  const contender = engine === 'ort' ? `aekit ort (${threads ?? 'default'} threads)` : 'aekit tfjs (wasm)';
  return { case: c.key, contender, samplesPerSecond: result.samplesPerSecond, peakRssMiB: result.peakRssMiB, detail: `${result.steps} timed steps` };
}

function runTorch(c: Case): Measurement | undefined {
  if (!c.torch) return undefined;
  // /usr/bin/time -f %M prints the peak RSS (KiB) of the script on stderr's last line.
  const run = spawnSync('/usr/bin/time', ['-f', '%M', PYTHON, c.torch.script, String(c.torch.images)], { encoding: 'utf8', cwd: path.resolve(__dirname, '..') });
  if (run.status !== 0) {
    console.log(`torch ${c.key}: skipped (${(run.stderr || run.error?.message || '').trim().split('\n').slice(-2).join(' ')})`);
    return undefined;
  }
  const match = /samples\/s=(\d+)/.exec(run.stdout);
  const rssKiB = Number(run.stderr.trim().split('\n').pop());
  return { case: c.key, contender: 'pytorch cpu', samplesPerSecond: Number(match?.[1] ?? NaN), peakRssMiB: rssKiB / 1024, detail: run.stdout.trim() };
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    const threads = arg('threads', '');
    await child(arg('child', ''), arg('engine', 'ort'), Number(arg('steps', '50')), threads ? Number(threads) : undefined);
    return;
  }
  const cases = arg('cases', 'mlp,conv').split(',').map((k) => {
    const c = CASES.find((x) => x.key === k);
    if (!c) throw new Error(`unknown case '${k}' (cases: ${CASES.map((x) => x.key).join(', ')})`);
    return c;
  });
  const engines = arg('engines', 'torch,tfjs,ort').split(',');
  const ortThreads = arg('ort-threads', '1,2').split(',').map(Number);
  const rounds = Number(arg('rounds', '2'));
  const tfjsSteps = Number(arg('tfjs-steps', '12'));
  const ortSteps = Number(arg('ort-steps', '150'));
  const torchAvailable = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

  const loadStart = os.loadavg();
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);
  if (engines.includes('torch') && !torchAvailable) console.log('pytorch: skipped (/usr/bin/python3 cannot import torch; apt-get install python3-torch libopenblas0-pthread: without OpenBLAS, Debian torch runs on the reference BLAS, ~5x slower)');
  const all: Measurement[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const c of cases) {
      const contenders: (() => Measurement | undefined)[] = [];
      if (engines.includes('torch') && torchAvailable) contenders.push(() => runTorch(c));
      if (engines.includes('tfjs')) contenders.push(() => runNodeChild(c, 'tfjs', WARMUP_STEPS + tfjsSteps));
      if (engines.includes('ort')) for (const t of ortThreads) contenders.push(() => runNodeChild(c, 'ort', WARMUP_STEPS + ortSteps, t));
      for (const run of contenders) {
        const m = run();
        if (!m) continue;
        all.push(m);
        console.log(`round ${round}  ${c.key.padEnd(5)} ${m.contender.padEnd(24)} ${m.samplesPerSecond.toFixed(0).padStart(6)} samples/s  peak RSS ${m.peakRssMiB.toFixed(0).padStart(5)} MiB  (${m.detail})`);
      }
    }
  }
  const loadEnd = os.loadavg();

  console.log(`\nbest of ${rounds} round(s); load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`);
  console.log('| model | contender | samples/s | x PyTorch | peak RSS (MiB) |');
  console.log('|---|---|---:|---:|---:|');
  for (const c of cases) {
    const best = new Map<string, Measurement>();
    for (const m of all.filter((x) => x.case === c.key)) {
      const known = best.get(m.contender);
      if (!known || m.samplesPerSecond > known.samplesPerSecond) best.set(m.contender, { ...m, peakRssMiB: Math.max(m.peakRssMiB, known?.peakRssMiB ?? 0) });
    }
    const torch = best.get('pytorch cpu')?.samplesPerSecond;
    for (const m of best.values()) {
      const ratio = torch ? (m.samplesPerSecond / torch).toFixed(2) : '-';
      console.log(`| ${c.label} | ${m.contender} | ${m.samplesPerSecond.toFixed(0)} | ${ratio} | ${m.peakRssMiB.toFixed(0)} |`);
    }
  }
  const json = process.argv.includes('--json') ? arg('json', '') : '';
  if (json) await fs.writeFile(json, JSON.stringify({ machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, loadStart, loadEnd, measurements: all }, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
