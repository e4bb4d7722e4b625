/**
 * `aekit export`: a trained run (or checkpoint) -> ONNX artifacts, verified on every runtime; with
 * `--web <dir>`, also (or only) the demo page as a static site (src/serve/static-site.ts); or,
 * with `--part train-step`, a fine-tuning bundle for the browser (src/train/engines/ort/web-bundle.ts).
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { AekitError } from '../../core/errors';
import { consoleLogger } from '../../core/log';
import { exportRun } from '../../export/run-export';
import type { ExportRunResult } from '../../export/run-export';
import { exportTrainingStep, TRAIN_STEP_FILES } from '../../train/engines/ort/web-bundle';
import { exportWebDemo } from '../../serve/static-site';
import type { WebDemoResult } from '../../serve/static-site';
import { intFlag, numberFlag, parseOptions } from '../common';

/** Model parts, every part, or the training step (a fine-tuning bundle rather than an artifact). */
const PARTS = ['encoder', 'decoder', 'generator', 'discriminator', 'classifier', 'all', 'train-step'] as const;

const optionsSchema = z.object({
  out: z.string().min(1).optional(),
  web: z.string().min(1).optional(),
  coi: z.boolean().default(false),
  title: z.string().min(1).optional(),
  part: z.enum(PARTS).default('all'),
  opset: intFlag.optional(),
  fp16: z.boolean().default(false),
  verify: z.boolean().default(true),
  rtol: numberFlag.refine((x) => x >= 0, { message: 'expected a number >= 0' }).optional(),
  atol: numberFlag.refine((x) => x >= 0, { message: 'expected a number >= 0' }).optional(),
  force: z.boolean().default(false),
  triton: z.string().optional(),
  batchSize: intFlag.optional(),
});

/** Sizes as people read them (MB = 10^6 bytes, as hosts and `du --si` count). */
function megabytes(bytes: number): string {
  return bytes >= 100_000 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

/** Human-readable lines for a static demo. */
export function describeWebDemo(result: WebDemoResult): string {
  const b = result.bytes;
  return [
    `wrote the static demo of ${result.models.join(', ')} to ${result.dir}: ${result.files.length} files, ${megabytes(b.total)} (onnxruntime-web ${megabytes(b.runtime)}, models ${megabytes(b.models)}, page ${megabytes(b.page)})`,
    `  serve the folder with any static file server, e.g. \`npx http-server ${result.dir}\`, and open it; it needs no network and no other files`,
    `  without COOP/COEP headers wasm runs on one thread (the page says so): ${result.dir}/_headers sets them on Netlify and Cloudflare Pages; --coi adds a service worker that does it on any https host (GitHub Pages)`,
  ].join('\n');
}

/** Human-readable lines for an export result. */
export function describeExport(result: ExportRunResult): string {
  const lines = [`exported ${result.family} from ${result.checkpoint}`];
  for (const a of result.artifacts) {
    const io = `${a.result.inputs.map((i) => `${i.name}[${i.shape.join(',')}]`).join(' ')} -> ${a.result.outputs.map((o) => `${o.name}[${o.shape.join(',')}]`).join(' ')}`;
    if (a.unchanged) {
      lines.push(`  ${a.part}: ${a.path} already holds this export (same checkpoint and options); left as it is`);
      if (a.tritonDir) lines.push(`    triton: ${a.tritonDir}`);
      continue;
    }
    lines.push(`  ${a.part}: ${a.path} (${(a.bytes / 1024).toFixed(1)} KiB)  ${io}`);
    if (a.result.fp16Report) {
      const r = a.result.fp16Report;
      lines.push(`    fp16: ${(r.bytesSaved / 1024).toFixed(1)} KiB saved (${((100 * r.bytesSaved) / r.bytesFp32).toFixed(0)}%), max weight error ${r.maxWeightError.toExponential(2)}, max output error vs fp32 ${r.maxOutputError.toExponential(2)}`);
    }
    if (a.verify) {
      const bound = `|onnx - tfjs| <= ${a.verify.tolerance} + ${a.verify.rtol}·|tfjs|`;
      for (const rt of a.verify.runtimes) {
        const worst = Math.max(0, ...rt.outputs.map((o) => o.worst?.ratio ?? 0));
        lines.push(`    verify ${rt.runtime}: max |onnx - tfjs| = ${rt.maxAbsDiff.toExponential(2)}, worst element at ${(100 * worst).toFixed(1)}% of its bound (${bound})`);
      }
    }
    if (a.tritonDir) lines.push(`    triton: ${a.tritonDir}`);
  }
  return lines.join('\n');
}

export function exportCommand(): Command {
  return new Command('export')
    .description('Export a trained run (or checkpoint) to ONNX: one self-describing artifact per part, NCHW images, symbolic batch, verified on onnxruntime-node and onnxruntime-web.')
    .argument('<run-dir|checkpoint>', 'run folder (its latest checkpoint) or a checkpoint folder')
    .option('-o, --out <file.onnx|dir>', 'output file (one part) or folder (<part>.onnx per part); default <run>/onnx (required with --part train-step)')
    .option('--web <dir>', 'write the demo page as a static site (page, web module, onnxruntime-web, the decoder and encoder) to <dir>; the location may also be a folder of exported .onnx files')
    .option('--coi', 'with --web: add a service worker that makes the page cross-origin isolated on hosts without COOP/COEP headers (multithreaded wasm)')
    .option('--title <text>', 'with --web: the page title (default "aekit demo: <run>")')
    .addOption(new Option('--part <part>', 'which part').choices([...PARTS]).default('all'))
    .option('--opset <n>', 'ONNX opset (default 17)')
    .option('--fp16', 'store weights as float16 (inputs/outputs stay float32)')
    .option('--no-verify', 'skip the parity check against the tfjs model')
    .option('--rtol <x>', 'relative part of the parity bound |onnx - tfjs| <= atol + rtol·|tfjs| (default 1e-3; 1e-2 with --fp16)')
    .option('--atol <x>', 'absolute part of the parity bound (default 1e-4; 1e-2 with --fp16)')
    .option('--force', 'replace existing output files that hold a different export (re-exporting the same checkpoint with the same options is a no-op without it)')
    .option('--triton <repo-dir>', 'also write a Triton Inference Server model repository')
    .option('--batch-size <n>', "with --part train-step: images per fine-tuning step (default: the run's batch size)")
    .addHelpText(
      'after',
      `
Examples:
  aekit export runs/quickstart                      # -> runs/quickstart/onnx; again: a no-op
  aekit export runs/quickstart --part decoder --out decoder.onnx --fp16
  aekit export runs/fashion-ae --out runs/fashion-ae/onnx --rtol 1e-2   # a looser parity bound
  aekit export runs/quickstart --out onnx/ --triton triton-repo/ --force
  aekit export runs/quickstart --part train-step --out web/fine-tune --batch-size 16
  aekit export runs/quickstart --web site/            # a static demo: npx http-server site
  aekit export runs/quickstart/onnx --web site/ --coi --force`,
    )
    .action(async (location: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      if (flags.web === undefined) {
        const webOnly = [flags.coi && '--coi', flags.title !== undefined && '--title'].filter(Boolean);
        if (webOnly.length > 0) throw new AekitError('BAD_ARGUMENT', 'only goes with --web <dir> (a static demo)', { where: webOnly.join(', ') });
      }
      if (flags.web !== undefined) {
        const unusable = [flags.part !== 'all' && `--part ${flags.part}`, flags.triton !== undefined && '--triton', flags.batchSize !== undefined && '--batch-size', flags.out?.endsWith('.onnx') && `--out ${flags.out}`].filter(Boolean);
        if (unusable.length > 0) throw new AekitError('BAD_ARGUMENT', 'cannot be combined with --web (the page takes the decoder and encoder; --out may name a folder to keep them in)', { where: unusable.join(', ') });
        const site = await exportWebDemo(location, flags.web, {
          artifactsOut: flags.out,
          opset: flags.opset,
          fp16: flags.fp16,
          verify: flags.verify,
          force: flags.force,
          serviceWorker: flags.coi,
          title: flags.title,
          logger: consoleLogger(),
        });
        if (site.exported) process.stdout.write(describeExport(site.exported) + '\n');
        process.stdout.write(describeWebDemo(site) + '\n');
        return;
      }
      if (flags.part === 'train-step') {
        if (flags.out === undefined) throw new AekitError('BAD_ARGUMENT', 'required with --part train-step (the folder for the fine-tuning bundle)', { where: '-o, --out <dir>' });
        const out = flags.out;
        const unused = [flags.opset !== undefined && '--opset', flags.fp16 && '--fp16', flags.triton !== undefined && '--triton', flags.rtol !== undefined && '--rtol', flags.atol !== undefined && '--atol'].filter(Boolean);
        if (unused.length > 0) throw new AekitError('BAD_ARGUMENT', `${unused.join(', ')} do not apply to --part train-step (a float32 training step, not a served artifact)`, { where: '--part' });
        // The summary below is the report; the library's own log line would repeat it.
        const bundle = await exportTrainingStep(location, out, { batchSize: flags.batchSize, force: flags.force });
        const m = bundle.manifest;
        process.stdout.write(
          `wrote a fine-tuning bundle of ${m.family} (Adam step ${m.optimizer.step}, batch ${m.batchSize}, lr ${m.optimizer.learningRate}) to ${bundle.dir}\n` +
            `  ${bundle.files.model}, ${bundle.files.state}, ${bundle.files.manifest}: load it in a page with loadTrainer('<url>/${TRAIN_STEP_FILES.manifest}') from aekit/web\n`,
        );
        return;
      }
      if (flags.batchSize !== undefined) throw new AekitError('BAD_ARGUMENT', '--batch-size applies to --part train-step only', { where: '--batch-size' });
      if (!flags.verify && (flags.rtol !== undefined || flags.atol !== undefined)) {
        throw new AekitError('BAD_ARGUMENT', '--rtol/--atol set the parity check that --no-verify skips; give one or the other', { where: flags.rtol !== undefined ? '--rtol' : '--atol' });
      }
      const result = await exportRun(location, {
        out: flags.out,
        parts: flags.part === 'all' ? 'all' : [flags.part],
        opset: flags.opset,
        fp16: flags.fp16,
        verify: flags.verify,
        rtol: flags.rtol,
        atol: flags.atol,
        force: flags.force,
        triton: flags.triton,
        logger: consoleLogger(),
      });
      process.stdout.write(describeExport(result) + '\n');
    });
}
