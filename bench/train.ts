/**
 * Training throughput (samples/s) per model family and tfjs backend, on a slice of MNIST, through
 * the real trainer. Warm-up steps are excluded. Compare with PyTorch on the same machine:
 *   /usr/bin/python3 ../shared/reference/vae_torch_train.py 60000   (needs apt-get install python3-torch)
 *
 * Usage: npm run bench:train -- [--backends wasm,cpu] [--steps 40] [--json out.json]
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, useBackend } from '../src/core/tfjs-backend';
import { train } from '../src/train/trainer';

interface Case {
  label: string;
  model: Record<string, unknown>;
  batchSize: number;
}

const CASES: Case[] = [
  { label: 'vae mlp 784-400-20 (pytorch/examples)', model: { family: 'vae', architecture: 'mlp', hiddenSizes: [400], latentSize: 20 }, batchSize: 128 },
  { label: 'vae conv [32,64] latent 16 (quickstart)', model: { family: 'vae', architecture: 'conv', convChannels: [32, 64], latentSize: 16 }, batchSize: 64 },
  { label: 'ae conv [32,64] latent 16', model: { family: 'ae', convChannels: [32, 64], latentSize: 16 }, batchSize: 64 },
  { label: 'dae conv [32,64] latent 16', model: { family: 'dae', convChannels: [32, 64], latentSize: 16 }, batchSize: 64 },
  { label: 'cvae conv [32,64] latent 16', model: { family: 'cvae', convChannels: [32, 64], latentSize: 16 }, batchSize: 64 },
  { label: 'classifier [32,64] (FID network)', model: { family: 'classifier' }, batchSize: 64 },
];

const WARMUP_STEPS = 3;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const backends = (arg('backends') ?? 'wasm,cpu').split(',');
  const steps = Number(arg('steps') ?? 40);
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-'));
  const rows: { case: string; backend: string; batchSize: number; samplesPerSecond: number; steps: number }[] = [];
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  for (const backend of backends) {
    try {
      await useBackend(backend as 'wasm');
    } catch (error) {
      console.log(`${backend}: skipped (${(error as Error).message})`);
      continue;
    }
    // The cpu backend is ~10x slower; fewer steps keep the bench short.
    const caseSteps = backend === 'cpu' ? Math.max(WARMUP_STEPS + 5, Math.round(steps / 4)) : steps;
    for (const c of CASES) {
      const times: number[] = [];
      let last = 0;
      await train(
        {
          name: `${c.model.family}-${backend}-${rows.length}`,
          outDir,
          model: c.model,
          data: { dataset: { name: 'mnist', limit: c.batchSize * (caseSteps + 1) } },
          train: { epochs: 1, batchSize: c.batchSize, stepsPerEpoch: caseSteps, validationFraction: 0, backend, logEvery: 1000 },
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
      const seconds = times.reduce((a, b) => a + b, 0) / 1000;
      const samplesPerSecond = (times.length * c.batchSize) / seconds;
      rows.push({ case: c.label, backend: tf.getBackend(), batchSize: c.batchSize, samplesPerSecond, steps: times.length });
      console.log(`${backend.padEnd(6)} ${c.label.padEnd(42)} batch ${String(c.batchSize).padStart(3)}  ${samplesPerSecond.toFixed(0).padStart(6)} samples/s  (${times.length} timed steps)`);
    }
  }
  const json = arg('json');
  if (json) await fs.writeFile(json, JSON.stringify({ machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, rows }, null, 2));
  await fs.rm(outDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
