/**
 * `aekit quickstart`: the README's first command — train a small conv VAE on MNIST end to end,
 * export it to ONNX (`<run>/onnx`) and evaluate the artifacts, ending with a table of metrics.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { consoleLogger } from '../../core/log';
import { EXPERIMENTS_DIR } from '../../core/paths';
import { evaluate } from '../../eval/evaluate';
import type { EvalMetric } from '../../eval/evaluate';
import { DEFAULT_FID_CLASSIFIER } from '../../eval/fid-features';
import { formatReportTable, writeReport } from '../../eval/report';
import { RUN_ONNX_FOLDER } from '../../eval/target';
import { exportRun } from '../../export/run-export';
import { intFlag, parseOptions, readJsonFile, setPath } from '../common';
import { evalProgress } from '../progress';
import { describeExport } from './export';
import { runTraining, summarise } from './train';

const optionsSchema = z.object({
  outDir: z.string().default('runs'),
  epochs: intFlag.optional(),
  limit: intFlag.optional(),
  evalN: intFlag.pipe(z.number().min(2)).optional(),
  eval: z.boolean().default(true),
});

/** The recipe the quickstart runs. */
export const QUICKSTART_CONFIG = path.join(EXPERIMENTS_DIR, 'quickstart.json');

/**
 * Test images the quickstart evaluates on: half the MNIST test split keeps evaluating the
 * quickstart VAE (FID, SSIM, PSNR, ELBO) at ~16 s on 2 cores (measured; docs/benchmarks.md), next
 * to minutes of training; `aekit eval` uses all 10,000.
 */
export const QUICKSTART_EVAL_COUNT = 5000;

/**
 * The ELBO/IWAE estimate decodes each image K = 64 times (7 s for 500 images of this VAE on 2
 * cores): a tenth of the evaluated images keeps it under half of the evaluation time.
 */
const QUICKSTART_ELBO_FRACTION = 0.1;

export function quickstartCommand(): Command {
  return new Command('quickstart')
    .description(
      `Train a small conv VAE on MNIST (bundled, no download) with ${path.relative(process.cwd(), QUICKSTART_CONFIG) || QUICKSTART_CONFIG}, export it to <run>/${RUN_ONNX_FOLDER} and evaluate it (FID, SSIM, PSNR, ELBO); replaces runs/quickstart.`,
    )
    .option('--out-dir <dir>', 'where the run folder goes', 'runs')
    .option('--epochs <n>', 'override the number of epochs (smoke tests)')
    .option('--limit <n>', 'override the number of MNIST images (smoke tests; also caps the evaluated images)')
    .option('--eval-n <n>', `test images to evaluate on (default ${QUICKSTART_EVAL_COUNT})`)
    .option('--no-eval', 'stop after training')
    .addHelpText('after', '\nExamples:\n  npx aekit quickstart\n  npx aekit quickstart --epochs 1 --eval-n 1000\n')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      const config = await readJsonFile(QUICKSTART_CONFIG);
      setPath(config, 'outDir', flags.outDir);
      if (flags.epochs !== undefined) setPath(config, 'train.epochs', flags.epochs);
      if (flags.limit !== undefined) setPath(config, 'data.dataset.limit', flags.limit);
      const result = await runTraining(config, { resume: false, overwrite: true });
      process.stdout.write(summarise(result) + '\n');
      if (!flags.eval || result.interrupted) return;

      const logger = consoleLogger();
      const onnxDir = path.join(result.runDir, RUN_ONNX_FOLDER);
      const exported = await exportRun(result.runDir, { out: onnxDir, force: true, logger });
      process.stdout.write(describeExport(exported) + '\n');
      const count = flags.evalN ?? Math.min(QUICKSTART_EVAL_COUNT, Math.max(2, flags.limit ?? QUICKSTART_EVAL_COUNT));
      const metrics: EvalMetric[] = ['ssim', 'psnr', 'elbo'];
      if (existsSync(DEFAULT_FID_CLASSIFIER)) metrics.unshift('fid');
      else logger.warn(`FID skipped: the MNIST classifier ${DEFAULT_FID_CLASSIFIER} is not installed`);
      logger.info(`evaluating ${onnxDir} on ${count} MNIST test images (aekit eval uses all 10,000)`);
      const report = await evaluate(onnxDir, {
        metrics,
        count,
        elboCount: Math.max(1, Math.round(count * QUICKSTART_ELBO_FRACTION)),
        logger,
        onProgress: evalProgress(),
      });
      const files = await writeReport(path.join(result.runDir, 'eval'), report);
      process.stdout.write(`\n${formatReportTable(report)}\nreport: ${path.dirname(files[0])}\n`);
    });
}
