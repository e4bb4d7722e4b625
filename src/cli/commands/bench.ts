/** `aekit bench`: one artifact on every runtime, with latency, throughput, GFLOP/s, memory and agreement. */
import { Command } from 'commander';
import { z } from 'zod';
import { AGREEMENT_TOLERANCE } from '../../bench/agreement';
import { consoleLogger } from '../../core/log';
import { BENCH_DEFAULTS, benchmark } from '../../bench/bench';
import { formatBenchTable, writeBenchReport } from '../../bench/report';
import { BENCH_RUNTIME_NAMES, checkBenchRuntime } from '../../bench/runtimes';
import { intFlag, numberFlag, parseOptions } from '../common';

/** A comma-separated list flag, e.g. `--batch 1,16,256`. */
const listOf = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((text) => text.split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .pipe(z.array(item).min(1, { message: 'expected a comma-separated list with at least one entry' }));

/** `--dim seq=128,heads=8`: sizes of symbolic dimensions by name, each entry checked. */
const dimSizes = listOf(
  z.string().transform((entry, ctx) => {
    const match = /^([^=]+)=(\d+)$/.exec(entry);
    if (!match || Number(match[2]) < 1) {
      ctx.addIssue({ code: 'custom', message: `expected name=size with a positive whole size, got '${entry}'` });
      return z.NEVER;
    }
    return [match[1].trim(), Number(match[2])] as const;
  }),
).transform((entries) => Object.fromEntries(entries));

const optionsSchema = z.object({
  runtimes: listOf(z.string().transform((name) => checkBenchRuntime(name))).optional(),
  batch: listOf(intFlag.refine((b) => b >= 1, { message: 'batch sizes must be >= 1' })).optional(),
  dim: dimSizes.optional(),
  threads: intFlag.refine((n) => n >= 1, { message: 'expected at least 1 thread' }).optional(),
  warmup: intFlag.refine((n) => n >= 0, { message: 'expected 0 or more' }).default(BENCH_DEFAULTS.warmup),
  runs: intFlag.refine((n) => n >= 1, { message: 'expected at least 1 run' }).default(BENCH_DEFAULTS.runs),
  maxSeconds: numberFlag.refine((s) => s > 0, { message: 'expected a positive number of seconds' }).optional(),
  run: z.string().min(1).optional(),
  part: z.string().min(1).optional(),
  seed: intFlag.default(BENCH_DEFAULTS.seed),
  tolerance: numberFlag.refine((t) => t >= 0, { message: 'expected a tolerance >= 0' }).optional(),
  rtol: numberFlag.refine((t) => t >= 0, { message: 'expected a relative tolerance >= 0' }).optional(),
  json: z.string().min(1).optional(),
  md: z.string().min(1).optional(),
  png: z.string().min(1).optional(),
});

export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'Benchmark an ONNX artifact on several runtimes (onnxruntime-node CPU/WebGPU/CUDA, onnxruntime-web in Node, TensorFlow.js on the original model, headless Chromium): creation time, first inference, p50/p95 latency, throughput, GFLOP/s, peak memory and max abs difference from onnxruntime-node CPU. Runtimes are interleaved; missing ones are reported as skipped.',
    )
    .argument('<model>', 'ONNX artifact, or a run folder (its decoder, or --part, is exported to a temporary file)')
    .option('--runtimes <list>', `comma-separated runtimes (default: all of ${BENCH_RUNTIME_NAMES.join(',')})`)
    .option('--batch <list>', `comma-separated batch sizes (default ${BENCH_DEFAULTS.batches.join(',')}; a model with a fixed batch runs that one, and other sizes are refused with the reason)`)
    .option('--dim <list>', 'sizes of symbolic input dimensions other than the batch, e.g. seq=128,heads=8 (batch, batch_size, N, ... and the first axis take --batch)')
    .option('--threads <n>', 'CPU threads for the runtimes that take a count (default: the available cores)')
    .option('--warmup <n>', 'untimed runs after the first, per runtime and batch', String(BENCH_DEFAULTS.warmup))
    .option('--runs <n>', 'timed runs per runtime and batch', String(BENCH_DEFAULTS.runs))
    .option('--max-seconds <s>', 'stop timing a runtime and batch after this many seconds (at least 3 runs kept)')
    .option('--run <dir>', 'run folder of the tfjs model for the tfjs-* rows (default: found from the artifact\'s runId)')
    .option('--part <part>', 'part to export when <model> is a run folder (default: decoder)')
    .option('--seed <n>', 'seed of the inputs', String(BENCH_DEFAULTS.seed))
    .option('--tolerance <x>', `absolute part of the agreement bound |out - ref| <= tolerance + rtol·|ref| against ort-node-cpu (default ${AGREEMENT_TOLERANCE.atol})`)
    .option('--rtol <x>', `relative part of that bound (default ${AGREEMENT_TOLERANCE.rtol})`)
    .option('--json <file>', 'write the full report as JSON')
    .option('--md <file>', 'write the table as Markdown')
    .option('--png <file>', 'write a bar chart of throughput per runtime and batch size')
    .addHelpText(
      'after',
      `
Examples:
  aekit bench runs/quickstart/onnx/decoder.onnx --runtimes ort-node-cpu,ort-web-wasm,tfjs-wasm --batch 1,64 --runs 20
  aekit bench models/mnist-classifier.onnx --batch 1,16,256 --json bench.json --md bench.md --png bench.png
  env $(aekit browser --vulkan-env) aekit bench decoder.onnx --runtimes ort-node-cpu,ort-node-webgpu,chromium-webgpu
  aekit bench runs/quickstart --part encoder --runs 10
  aekit bench fixtures/onnx/foreign/onnx-fp16-seq.onnx --runtimes ort-node-cpu,ort-web-wasm --batch 1,8 --dim seq=16

Notes:
  ort-node-webgpu needs a Vulkan driver; without a GPU, the bundled Chromium's SwiftShader
  (the env above) runs it in software. The browser rows use AEKIT_CHROMIUM, else a system
  Chromium, else the one bundled in @sparticuz/chromium (\`aekit browser\` says which; WebGPU
  there runs on SwiftShader without a GPU), and the built web module (npm run build).
  Models from other tools run as they are: float32/float16/float64, int32/int64/int8/uint8 and
  bool inputs get seeded values (indices below the size of what they index, masks, images in
  [0, 1]); FLOPs the counter cannot size print as unknown (see docs/benchmarks.md).`,
    )
    .action(async (location: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      const report = await benchmark(location, {
        runtimes: flags.runtimes,
        batches: flags.batch,
        dims: flags.dim,
        threads: flags.threads,
        warmup: flags.warmup,
        runs: flags.runs,
        maxSeconds: flags.maxSeconds,
        runDir: flags.run,
        part: flags.part,
        seed: flags.seed,
        tolerance: { atol: flags.tolerance ?? AGREEMENT_TOLERANCE.atol, rtol: flags.rtol ?? AGREEMENT_TOLERANCE.rtol },
        logger: consoleLogger(),
      });
      await writeBenchReport(report, { json: flags.json, md: flags.md, png: flags.png });
      process.stdout.write(formatBenchTable(report) + '\n');
    });
}
