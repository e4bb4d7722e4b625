/**
 * `aekit export`: a trained run (or checkpoint) -> ONNX artifacts, verified on every runtime; or,
 * with `--part train-step`, a fine-tuning bundle for the browser (src/train/engines/ort/web-bundle.ts).
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { AekitError } from '../../core/errors';
import { consoleLogger } from '../../core/log';
import { exportRun } from '../../export/run-export';
import type { ExportRunResult } from '../../export/run-export';
import { exportTrainingStep, TRAIN_STEP_FILES } from '../../train/engines/ort/web-bundle';
import { intFlag, numberFlag, parseOptions } from '../common';

/** Model parts, every part, or the training step (a fine-tuning bundle rather than an artifact). */
const PARTS = ['encoder', 'decoder', 'generator', 'discriminator', 'classifier', 'all', 'train-step'] as const;

const optionsSchema = z.object({
  out: z.string().min(1),
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

/** Human-readable lines for an export result. */
export function describeExport(result: ExportRunResult): string {
  const lines = [`exported ${result.family} from ${result.checkpoint}`];
  for (const a of result.artifacts) {
    const io = `${a.result.inputs.map((i) => `${i.name}[${i.shape.join(',')}]`).join(' ')} -> ${a.result.outputs.map((o) => `${o.name}[${o.shape.join(',')}]`).join(' ')}`;
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
    .requiredOption('-o, --out <file.onnx|dir>', 'output file (one part) or folder (<part>.onnx per part)')
    .addOption(new Option('--part <part>', 'which part').choices([...PARTS]).default('all'))
    .option('--opset <n>', 'ONNX opset (default 17)')
    .option('--fp16', 'store weights as float16 (inputs/outputs stay float32)')
    .option('--no-verify', 'skip the parity check against the tfjs model')
    .option('--rtol <x>', 'relative part of the parity bound |onnx - tfjs| <= atol + rtol·|tfjs| (default 1e-3; 1e-2 with --fp16)')
    .option('--atol <x>', 'absolute part of the parity bound (default 1e-4; 1e-2 with --fp16)')
    .option('--force', 'replace existing output files')
    .option('--triton <repo-dir>', 'also write a Triton Inference Server model repository')
    .option('--batch-size <n>', "with --part train-step: images per fine-tuning step (default: the run's batch size)")
    .addHelpText(
      'after',
      `
Examples:
  aekit export runs/quickstart --out runs/quickstart/onnx
  aekit export runs/quickstart --part decoder --out decoder.onnx --fp16
  aekit export runs/fashion-ae --out runs/fashion-ae/onnx --rtol 1e-2   # a looser parity bound
  aekit export runs/quickstart --out onnx/ --triton triton-repo/ --force
  aekit export runs/quickstart --part train-step --out web/fine-tune --batch-size 16`,
    )
    .action(async (location: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      if (flags.part === 'train-step') {
        const unused = [flags.opset !== undefined && '--opset', flags.fp16 && '--fp16', flags.triton !== undefined && '--triton', flags.rtol !== undefined && '--rtol', flags.atol !== undefined && '--atol'].filter(Boolean);
        if (unused.length > 0) throw new AekitError('BAD_ARGUMENT', `${unused.join(', ')} do not apply to --part train-step (a float32 training step, not a served artifact)`, { where: '--part' });
        // The summary below is the report; the library's own log line would repeat it.
        const bundle = await exportTrainingStep(location, flags.out, { batchSize: flags.batchSize, force: flags.force });
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
