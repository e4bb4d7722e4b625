/**
 * The GPU path, ready to prove (issue 18): one command that reports, as Markdown, what aekit does on
 * this machine's GPU beside its CPU:
 *   1. which providers load: onnxruntime-node's CUDA and WebGPU providers (WebGPU on whatever Vulkan
 *      driver the machine has: the native NVIDIA one on a GPU machine) and tfjs-node-gpu if
 *      installed; probed by `aekit bench` itself, so the reasons are the ones users see;
 *   2. ort-engine training samples/s of the quickstart conv VAE and the DCGAN tutorial model at
 *      64x64x3, on each provider that loads, beside onnxruntime's CPU provider;
 *   3. decoder bench rows (`aekit bench` on the quickstart decoder) on every provider that loads;
 *   4. `aekit serve --ep <gpu provider> --strict-ep` under the serve bench (bench/serve.ts).
 * Everything runs through the built CLI in child processes (a provider that crashes its process
 * costs one row, not the report), each with a time limit, so the whole check stays under 8 minutes.
 * No network: MNIST is bundled, the DCGAN data is seeded noise written to a temp folder.
 *
 * On a machine without an NVIDIA GPU it prints the providers table, says "no GPU" and skips the
 * rest (exit 0). `--force` runs every row on what does load (the CPU, or WebGPU on SwiftShader with
 * `env $(aekit browser --vulkan-env)`), which checks the script itself without a GPU.
 *
 * Usage: bash scripts/gpu-check.sh [--force] [--md report.md] [--conv-steps 60] [--dcgan-steps 12]
 *        [--serve-seconds 10]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { summarise } from '../src/bench/stats';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin/aekit.js');
/** The providers the check knows, as `aekit bench` runtimes (CPU first: the baseline of every row). */
const ORT_RUNTIMES = ['ort-node-cpu', 'ort-node-cuda', 'ort-node-webgpu'] as const;
type OrtRuntime = (typeof ORT_RUNTIMES)[number];
/** `aekit serve --ep` name of each runtime. */
const SERVE_EP: Record<OrtRuntime, string> = { 'ort-node-cpu': 'cpu', 'ort-node-cuda': 'cuda', 'ort-node-webgpu': 'webgpu' };
/** The whole check's time limit (the issue asks for under 8 minutes); each child gets what is left of it. */
const TOTAL_BUDGET_S = 450;
/** Seconds kept back for the decoder and serve benches while training rows run. */
const BENCH_RESERVE_S = 150;
/** Steps at the start of a training run left out of the median (session creation, arena growth). */
const WARMUP_STEPS = 3;

interface Flags {
  force: boolean;
  md?: string;
  convSteps: number;
  dcganSteps: number;
  serveSeconds: number;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { force: false, convSteps: 60, dcganSteps: 12, serveSeconds: 10 };
  const usage = 'Usage: bash scripts/gpu-check.sh [--force] [--md report.md] [--conv-steps 60] [--dcgan-steps 12] [--serve-seconds 10]';
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    if (name === '--help' || name === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    if (name === '--force') {
      flags.force = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value\n${usage}`);
    const count = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= WARMUP_STEPS) throw new Error(`${name}: expected a whole number above ${WARMUP_STEPS}, got '${value}'`);
      return n;
    };
    if (name === '--md') flags.md = value;
    else if (name === '--conv-steps') flags.convSteps = count();
    else if (name === '--dcgan-steps') flags.dcganSteps = count();
    else if (name === '--serve-seconds') {
      flags.serveSeconds = Number(value);
      if (!(flags.serveSeconds >= 10)) throw new Error(`--serve-seconds: the serve bench needs at least 10 s, got '${value}'`);
    } else throw new Error(`unknown flag '${name}'\n${usage}`);
  }
  return flags;
}

/** What a child process left: exit status, output, and whether it ran out of time. */
interface ChildResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  seconds: number;
  timedOut: boolean;
}

const CHECK_START = performance.now();

/** Seconds a child may run: its own limit, within what is left of the whole check's budget after `reserveS`. */
function limitFor(ownLimitS: number, reserveS = 0): number {
  const left = TOTAL_BUDGET_S - reserveS - (performance.now() - CHECK_START) / 1000;
  return Math.max(0, Math.min(ownLimitS, Math.floor(left)));
}

function runChild(what: string, args: string[], timeoutS: number, env: NodeJS.ProcessEnv = process.env): ChildResult {
  const start = performance.now();
  process.stderr.write(`gpu-check: ${what} (up to ${timeoutS} s)\n`);
  if (timeoutS <= 0) return { ok: false, stdout: '', stderr: '', seconds: 0, timedOut: true };
  const r = spawnSync(args[0], args.slice(1), { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 64 << 20 });
  const timedOut = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? ''), seconds: (performance.now() - start) / 1000, timedOut };
}

/** The last meaningful line of a failed child's output, for a table cell. */
function reason(r: ChildResult, limitS: number): string {
  if (r.timedOut) return limitS <= 0 ? `skipped: the check's ${TOTAL_BUDGET_S} s budget ran out` : `did not finish within ${limitS} s`;
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return cell(lines.find((l) => /^aekit:|Error/.test(l)) ?? lines.at(-1) ?? 'failed with no output');
}

/** Text made safe for one Markdown table cell. */
function cell(text: string): string {
  const flat = text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  return flat.length > 500 ? `${flat.slice(0, 497)}...` : flat;
}

function gpuName(): string | undefined {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const line = r.stdout.trim().split('\n')[0];
  return line ? line : undefined;
}

/** Vulkan drivers the loader would find (the WebGPU provider runs on one of them). */
function vulkanDrivers(): string {
  if (process.env.VK_ICD_FILENAMES) return `VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}`;
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const found = dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => path.join(d, f)) : []));
  return found.length > 0 ? found.join(', ') : 'none found';
}

interface Provider {
  name: string;
  loads: boolean;
  detail: string;
}

/** Which onnxruntime-node providers start, as `aekit bench` finds them on the shipped classifier. */
function probeOrt(tmp: string): Provider[] {
  const json = path.join(tmp, 'probe.json');
  const limit = limitFor(120);
  const r = runChild('probing the onnxruntime-node providers', [process.execPath, BIN, 'bench', path.join(ROOT, 'models/mnist-classifier.onnx'), '--runtimes', ORT_RUNTIMES.join(','), '--batch', '1', '--runs', '3', '--warmup', '1', '--json', json], limit);
  if (!r.ok || !existsSync(json)) return ORT_RUNTIMES.map((name) => ({ name, loads: false, detail: `aekit bench failed: ${reason(r, limit)}` }));
  const report = JSON.parse(readFileSync(json, 'utf8')) as { rows: { runtime: string; status: string; detail?: string; reason?: string }[] };
  return ORT_RUNTIMES.map((name) => {
    const row = report.rows.find((x) => x.runtime === name);
    if (!row) return { name, loads: false, detail: 'not in the bench report' };
    return { name, loads: row.status === 'ok', detail: cell(row.status === 'ok' ? (row.detail ?? 'ok') : (row.reason ?? row.detail ?? row.status)) };
  });
}

/** tfjs-node-gpu: an optional dependency that cannot install offline; loads only where it was installed. */
function probeTfjsGpu(): Provider {
  const code = "const tf = require('@tensorflow/tfjs-node-gpu'); const y = tf.matMul(tf.ones([256, 256]), tf.ones([256, 256])).sum().dataSync()[0]; process.stdout.write(tf.getBackend() + ' ' + y);";
  const r = runChild('loading tfjs-node-gpu', [process.execPath, '-e', code], 120);
  if (r.ok) return { name: 'tfjs-node-gpu', loads: true, detail: cell(`backend ${r.stdout}`) };
  const missing = /Cannot find module '@tensorflow\/tfjs-node-gpu'/.test(r.stderr);
  return { name: 'tfjs-node-gpu', loads: false, detail: missing ? 'not installed (npm install @tensorflow/tfjs-node-gpu; needs network and CUDA)' : reason(r, 120) };
}

/** Seeded noise images: training speed does not depend on what the pixels show. */
function writeNoiseFolder(dir: string, count: number, size: number): void {
  mkdirSync(dir, { recursive: true });
  let state = 12345;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 24;
  };
  for (let i = 0; i < count; i++) {
    const png = new PNG({ width: size, height: size });
    for (let p = 0; p < png.data.length; p++) png.data[p] = p % 4 === 3 ? 255 : next();
    writeFileSync(path.join(dir, `noise-${String(i).padStart(4, '0')}.png`), PNG.sync.write(png));
  }
}

interface TrainCase {
  key: string;
  label: string;
  batch: number;
  steps: number;
  args: string[];
}

interface TrainRow {
  model: string;
  contender: string;
  samplesPerSecond?: number;
  spread?: string;
  note: string;
}

/** One training run in its own process; samples/s is the median of its per-step rates after the warm-up. */
function trainRow(c: TrainCase, contender: string, extra: string[], tmp: string): TrainRow {
  const name = `${c.key}-${contender.replace(/[^a-z0-9]+/gi, '-')}`;
  const limit = limitFor(150, BENCH_RESERVE_S);
  const args = [process.execPath, BIN, 'train', ...c.args, ...extra, '--epochs', '1', '--steps-per-epoch', String(c.steps), '--batch-size', String(c.batch), '--set', 'train.logEvery=1', '--set', 'train.validationFraction=0', '--out-dir', tmp, '--name', name, '--overwrite'];
  const r = runChild(`training ${c.label} on ${contender}`, args, limit);
  const metrics = path.join(tmp, name, 'metrics.jsonl');
  const rates = existsSync(metrics)
    ? readFileSync(metrics, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { kind?: string; step?: number; samplesPerSecond?: number })
        .filter((m) => m.kind === 'step' && typeof m.samplesPerSecond === 'number' && (m.step ?? 0) > WARMUP_STEPS)
        .map((m) => m.samplesPerSecond as number)
    : [];
  if (!r.ok || rates.length === 0) return { model: c.label, contender, note: `failed: ${r.ok ? 'no step lines in metrics.jsonl' : reason(r, limit)}` };
  const stats = summarise(rates);
  return {
    model: c.label,
    contender,
    samplesPerSecond: stats.p50,
    spread: `${Math.round(stats.min)}-${Math.round(stats.max)}`,
    note: `${rates.length} timed steps of batch ${c.batch}; ${r.seconds.toFixed(0)} s with start-up`,
  };
}

/** The table rows of a Markdown table in a child's output (header and separator dropped). */
function tableRows(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !/^\| (runtime|API) \|/.test(l));
}

function main(): void {
  const flags = parseFlags(process.argv.slice(2));
  if (!existsSync(path.join(ROOT, 'dist/cli/index.js'))) throw new Error('dist/ is not built: run `npm run build` first (scripts/gpu-check.sh does)');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aekit-gpu-check-'));
  const out: string[] = [];
  const say = (line = ''): void => {
    out.push(line);
    process.stdout.write(`${line}\n`);
  };
  try {
    const gpu = gpuName();
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    say(`# aekit GPU check, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    say();
    say(`- GPU: ${gpu ?? 'no GPU (nvidia-smi found no NVIDIA device)'}`);
    say(`- CPU: ${cpu}, ${os.cpus().length} logical CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB; Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    say(`- Vulkan drivers: ${vulkanDrivers()}`);
    say();
    say('## Providers');
    say();
    const providers = [...probeOrt(tmp), probeTfjsGpu()];
    say('| provider | loads | detail |');
    say('| --- | --- | --- |');
    for (const p of providers) say(`| ${p.name} | ${p.loads ? 'yes' : 'no'} | ${p.detail} |`);
    say();
    if (!gpu && !flags.force) {
      say('no GPU: training, decoder bench and serve bench rows skipped (run with --force to run them on what loads here). GPU figures are still owed.');
      return;
    }
    const ort = ORT_RUNTIMES.filter((name) => providers.find((p) => p.name === name)?.loads);
    const tfjsGpu = providers.find((p) => p.name === 'tfjs-node-gpu')?.loads === true;

    say('## Training (ort engine; median samples/s per step after the warm-up, range in brackets)');
    say();
    const noise = path.join(tmp, 'noise64');
    // Folders hold out 10% as a test split; enough images that every step is a full batch of 64.
    writeNoiseFolder(noise, Math.ceil(((flags.dcganSteps + 1) * 64) / 0.85), 64);
    const cases: TrainCase[] = [
      { key: 'conv-vae', label: 'quickstart conv VAE, batch 64', batch: 64, steps: flags.convSteps, args: ['--config', path.join(ROOT, 'experiments/quickstart.json'), '--limit', '8192'] },
      {
        key: 'dcgan64',
        label: 'DCGAN tutorial 64x64x3, batch 64',
        batch: 64,
        steps: flags.dcganSteps,
        args: ['--model', 'dcgan', '--data', noise, '--image-size', '64x64', '--channels', '3', '--latent', '100', '--set', 'model.generatorFeatures=64', '--set', 'model.discriminatorFeatures=64', '--value-range', 'symmetric', '--lr', '0.0002', '--set', 'train.adam.beta1=0.5'],
      },
    ];
    say('| model | contender | samples/s | x CPU | note |');
    say('| --- | --- | ---: | ---: | --- |');
    const rows: TrainRow[] = [];
    // Each row is printed as it finishes; the CPU row of a model comes first and is the baseline of its ratios.
    const add = (r: TrainRow): void => {
      rows.push(r);
      const base = rows.find((x) => x.model === r.model && x.contender === 'ort-node-cpu')?.samplesPerSecond;
      const ratio = r.samplesPerSecond !== undefined && base ? (r.samplesPerSecond / base).toFixed(2) : '';
      say(`| ${r.model} | ${r.contender} | ${r.samplesPerSecond !== undefined ? `${Math.round(r.samplesPerSecond)} (${r.spread})` : '-'} | ${ratio} | ${r.note} |`);
    };
    for (const c of cases) {
      for (const runtime of ort) add(trainRow(c, runtime, ['--engine', 'ort', '--set', `train.ortRuntime=${runtime}`], tmp));
      if (tfjsGpu) add(trainRow({ ...c, steps: Math.max(WARMUP_STEPS + 3, Math.round(c.steps / 4)) }, 'tfjs-node-gpu', ['--engine', 'tfjs', '--backend', 'tfjs-node-gpu'], tmp));
    }
    say();

    say('## Decoder bench (quickstart conv VAE decoder)');
    say();
    const run = path.join(tmp, `conv-vae-ort-node-cpu`);
    if (existsSync(path.join(run, 'run.json'))) {
      const limit = limitFor(90, 30 * ort.length);
      const r = runChild('decoder bench', [process.execPath, BIN, 'bench', run, '--runtimes', ort.join(','), '--batch', '1,64,1024', '--runs', '30', '--max-seconds', '8', '--md', path.join(tmp, 'bench.md')], limit);
      const md = existsSync(path.join(tmp, 'bench.md')) ? readFileSync(path.join(tmp, 'bench.md'), 'utf8') : '';
      if (r.ok && md) {
        say('| runtime | batch | create ms | first ms | p50 ms (IQR) | p95 ms | runs | images/s | GFLOP/s | peak MiB | max abs diff | agrees |');
        say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
        for (const line of tableRows(md)) say(line);
      } else say(`decoder bench failed: ${reason(r, limit)}`);
    } else say('decoder bench skipped: the CPU training run of the conv VAE did not finish (see above)');
    say();

    say(`## Serve bench (\`aekit serve --ep <provider> --strict-ep\`, MLP VAE decoder, batch-1 requests, dynamic batching on, ${flags.serveSeconds} s per row)`);
    say();
    say('| provider | API | response | dynamic batching | req/s | p50 ms | p99 ms | errors | RSS first/last 5 s (MiB) | runs (merged) |');
    say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const runtime of ort) {
      const limit = limitFor(4 * flags.serveSeconds + 60);
      const r = runChild(`serve bench on ${runtime}`, [process.execPath, path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'bench/serve.ts'), '--apis', 'v1', '--batching', 'on', '--duration', String(flags.serveSeconds), '--ep', SERVE_EP[runtime], '--strict-ep'], limit);
      const lines = tableRows(r.stdout);
      if (r.ok && lines.length > 0) for (const line of lines) say(`| ${runtime} ${line}`);
      else say(`| ${runtime} | failed: ${reason(r, limit)} | | | | | | | | |`);
    }
    say();
    say(`Finished in ${((performance.now() - CHECK_START) / 1000).toFixed(0)} s; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
  } finally {
    if (flags.md) writeFileSync(flags.md, `${out.join('\n')}\n`);
    rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error: unknown) {
  process.stderr.write(`gpu-check: ${(error as Error).message}\n`);
  process.exit(1);
}
