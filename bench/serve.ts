/**
 * Load on `aekit serve`: autocannon with batch-1 requests for the MNIST MLP VAE decoder (784-400-20,
 * the pytorch/examples VAE), 64 connections, load generator on the same machine. The server's own
 * API (`/v1/models/<name>/decode`): JSON or raw float32 responses (`Accept:
 * application/octet-stream`); the v2 inference protocol (`/v2/models/<name>-decoder/infer`): JSON
 * tensors, or Triton's binary tensor data extension both ways. Each with dynamic batching
 * (--max-batch 64 --max-delay-ms 2) and without it (--max-batch 1). The server is the built CLI in
 * a child process of its own, so autocannon does not share its event loop; its RSS is sampled every
 * second to compare the first and the last 5 s.
 *
 * Usage: npm run build && npm run bench:serve -- [--duration 20] [--connections 64] [--decoder file.onnx] [--max-batch 64] [--apis v1,v2]
 *          [--batching on,off] [--ep cpu|webgpu|cuda] [--strict-ep]
 * (`--ep` and `--strict-ep` go to `aekit serve`; scripts/gpu-check.sh runs this with `--ep webgpu --strict-ep`.)
 * Figures and the exact command: docs/benchmarks.md, section "Serving".
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { exportRun } from '../src/export/run-export';
import { train } from '../src/train/trainer';

/** The issue's yardstick: a naive node:http + onnxruntime-node server, JSON, no batching, measured here. */
const YARDSTICK = '~4,000 req/s, p99 ~30 ms';
/** Targets of the serving issue. */
const TARGETS = { jsonRps: 4000, octetRps: 6000, p99Ms: 20 };
/** Window at each end of a run over which RSS is averaged ("memory flat between the first and last 5 s"). */
const MEMORY_WINDOW_S = 5;

interface Flags {
  duration: number;
  connections: number;
  decoder?: string;
  /** Rows per merged onnxruntime run in the batching rows. */
  maxBatch: number;
  /** Which APIs to load: the server's own (v1) and the v2 inference protocol. */
  apis: Api[];
  /** Rows with dynamic batching on, off, or both. */
  batching: boolean[];
  /** `aekit serve --ep`: the onnxruntime execution provider of the server. */
  ep: string;
  /** `aekit serve --strict-ep`: refuse to start rather than fall back to the CPU. */
  strictEp: boolean;
}

type Api = 'v1' | 'v2';

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { duration: 20, connections: 64, maxBatch: 64, apis: ['v1', 'v2'], batching: [true, false], ep: 'cpu', strictEp: false };
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('Usage: npm run build && npm run bench:serve -- [--duration 20] [--connections 64] [--decoder file.onnx] [--max-batch 64] [--apis v1,v2] [--batching on,off] [--ep cpu|webgpu|cuda] [--strict-ep]\n');
    process.exit(0);
  }
  if (argv.includes('--strict-ep')) {
    flags.strictEp = true;
    argv = argv.filter((a) => a !== '--strict-ep');
  }
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === '--duration') flags.duration = Number(value);
    else if (name === '--connections') flags.connections = Number(value);
    else if (name === '--decoder') flags.decoder = value;
    else if (name === '--max-batch') flags.maxBatch = Number(value);
    else if (name === '--apis') {
      flags.apis = value.split(',') as Api[];
      if (flags.apis.length === 0 || flags.apis.some((a) => a !== 'v1' && a !== 'v2')) throw new Error(`--apis: expected v1, v2 or v1,v2, got ${value}`);
    } else if (name === '--batching') {
      const parts = value.split(',');
      if (parts.length === 0 || parts.some((b) => b !== 'on' && b !== 'off')) throw new Error(`--batching: expected on, off or on,off, got ${value}`);
      flags.batching = parts.map((b) => b === 'on');
    } else if (name === '--ep') flags.ep = value;
    else throw new Error(`unknown flag ${name}; expected --duration, --connections, --decoder, --max-batch, --apis, --batching, --ep, --strict-ep`);
  }
  if (!(flags.duration >= 2 * MEMORY_WINDOW_S)) throw new Error(`--duration must be at least ${2 * MEMORY_WINDOW_S} s (memory is compared over the first and last ${MEMORY_WINDOW_S} s)`);
  return flags;
}

/** The MNIST MLP VAE decoder: trained for one short epoch (weights do not change the cost of a run). */
async function mnistMlpDecoder(tmp: string): Promise<string> {
  const run = await train(
    { name: 'mnist-mlp-vae', outDir: path.join(tmp, 'runs'), model: { family: 'vae', architecture: 'mlp', hiddenSizes: [400], latentSize: 20 }, data: { dataset: { name: 'mnist', limit: 1000 } }, train: { epochs: 1, batchSize: 100, backend: 'wasm', seed: 0 } },
    {},
  );
  const out = path.join(tmp, 'onnx');
  await exportRun(run.runDir, { out, parts: ['decoder'], verify: false });
  return path.join(out, 'decoder.onnx');
}

interface Server {
  url: string;
  child: ChildProcessWithoutNullStreams;
}

async function startServer(decoder: string, maxBatch: number, flags: Flags): Promise<Server> {
  const bin = path.resolve(__dirname, '../bin/aekit.js');
  if (!existsSync(path.resolve(__dirname, '../dist/cli/commands/serve.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  const child = spawn(process.execPath, [bin, 'serve', decoder, '--port', '0', '--max-batch', String(maxBatch), '--max-delay-ms', '2', '--ep', flags.ep, ...(flags.strictEp ? ['--strict-ep'] : [])]);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const match = /listening on (\S+)/.exec(d.toString());
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`aekit serve exited with ${code}: ${stderr}`)));
  });
  return { url, child };
}

/** Resident set size of a process in MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

interface Row {
  api: Api;
  /** JSON, or binary float32 (v1: `Accept: application/octet-stream`; v2: the binary tensor data extension, inputs and outputs). */
  response: 'json' | 'octet';
  batching: boolean;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rssFirst: number;
  rssLast: number;
  mergedRuns: number;
  runs: number;
}

/** The request of a row: path, headers and body of one batch-1 decode of the same latent. */
function decodeRequest(api: Api, response: Row['response'], latentSize: number): { path: string; headers: Record<string, string>; body: string | Buffer } {
  const z = Array.from({ length: latentSize }, (_, i) => Math.sin(i));
  if (api === 'v1') {
    return { path: '/v1/models/mnist-mlp-vae/decode', headers: { 'content-type': 'application/json', ...(response === 'octet' ? { accept: 'application/octet-stream' } : {}) }, body: JSON.stringify({ z: [z] }) };
  }
  const path = '/v2/models/mnist-mlp-vae-decoder/infer';
  if (response === 'json') return { path, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'z', shape: [1, latentSize], datatype: 'FP32', data: z }] }) };
  // The binary tensor data extension as Triton's clients send it: binary input, binary output.
  const json = Buffer.from(JSON.stringify({ inputs: [{ name: 'z', shape: [1, latentSize], datatype: 'FP32', parameters: { binary_data_size: latentSize * 4 } }], parameters: { binary_data_output: true } }));
  const bytes = Buffer.alloc(latentSize * 4);
  z.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return { path, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) }, body: Buffer.concat([json, bytes]) };
}

async function measure(decoder: string, api: Api, response: Row['response'], batching: boolean, flags: Flags, latentSize: number): Promise<Row> {
  const server = await startServer(decoder, batching ? flags.maxBatch : 1, flags);
  try {
    const { path: route, headers, body } = decodeRequest(api, response, latentSize);
    const url = `${server.url}${route}`;
    // Warm-up: first runs allocate onnxruntime's arenas and JIT the handlers.
    await autocannon({ url, method: 'POST', headers, body, connections: flags.connections, duration: 2 });
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(rssMiB(server.child.pid!)), 1000);
    const result = await autocannon({ url, method: 'POST', headers, body, connections: flags.connections, duration: flags.duration });
    clearInterval(sampler);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { batching: { runs: number; mergedRuns: number } };
    return {
      api,
      response,
      batching,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
      rssFirst: mean(rss.slice(0, MEMORY_WINDOW_S)),
      rssLast: mean(rss.slice(-MEMORY_WINDOW_S)),
      mergedRuns: health.batching.mergedRuns,
      runs: health.batching.runs,
    };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aekit-bench-serve-'));
  try {
    const decoder = flags.decoder ?? (await mnistMlpDecoder(tmp));
    const latentSize = 20;
    const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    process.stdout.write(`decoder ${decoder}; ${flags.connections} connections, ${flags.duration} s per row; ${os.cpus().length} cores; execution provider ${flags.ep}${flags.strictEp ? ' (strict)' : ''}; load average before: ${load}\n\n`);
    process.stdout.write('| API | response | dynamic batching | req/s | p50 ms | p99 ms | errors | RSS first/last 5 s (MiB) | runs (merged) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n');
    const rows: Row[] = [];
    const label = (r: Row) => (r.api === 'v1' ? `/v1 decode | ${r.response === 'json' ? 'JSON' : 'float32 (octet-stream)'}` : `/v2 infer | ${r.response === 'json' ? 'JSON tensors' : 'binary tensor data (in and out)'}`);
    // The APIs alternate, so that a change in the machine's load hits both alike.
    for (const response of ['json', 'octet'] as const) {
      for (const batching of flags.batching) {
        for (const api of flags.apis) {
          const r = await measure(decoder, api, response, batching, flags, latentSize);
          rows.push(r);
          process.stdout.write(
            `| ${label(r)} | ${r.batching ? `on (${flags.maxBatch} rows / 2 ms)` : 'off'} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.rssFirst.toFixed(0)} / ${r.rssLast.toFixed(0)} | ${r.runs} (${r.mergedRuns}) |\n`,
          );
        }
      }
    }
    process.stdout.write(`\nload average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; yardstick (naive server, JSON): ${YARDSTICK}\n`);
    for (const api of flags.apis) {
      const best = (response: Row['response']) => rows.filter((r) => r.api === api && r.response === response).sort((a, b) => b.rps - a.rps)[0];
      const [json, octet] = [best('json'), best('octet')];
      process.stdout.write(
        `${api} targets: JSON >= ${TARGETS.jsonRps} req/s (best ${Math.round(json.rps)}), float32 >= ${TARGETS.octetRps} req/s (best ${Math.round(octet.rps)}), p99 < ${TARGETS.p99Ms} ms, zero errors\n`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
