/**
 * `aekit quickstart`: the README's first command — {@link quickstart} (train a small conv VAE on
 * MNIST end to end, export it to ONNX in `<run>/onnx`, evaluate the artifacts), printed as it goes
 * and ending with a table of metrics.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { consoleLogger } from '../../core/log';
import { formatReportTable } from '../../eval/report';
import { RUN_ONNX_FOLDER } from '../../eval/target';
import { QUICKSTART_CONFIG, QUICKSTART_EVAL_COUNT, quickstart } from '../../train/quickstart';
import type { QuickstartEvent } from '../../train/quickstart';
import { intFlag, parseOptions } from '../common';
import { TRAIN_INTERRUPT, onInterrupt } from '../interrupt';
import { evalProgress, trainProgress } from '../progress';
import { describeExport } from './export';
import { summarise } from './train';

const optionsSchema = z.object({
  outDir: z.string().default('runs'),
  epochs: intFlag.optional(),
  limit: intFlag.optional(),
  evalN: intFlag.pipe(z.number().min(2)).optional(),
  eval: z.boolean().default(true),
});

/** The `quickstart` verb. */
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
      // Ctrl-C stops training with a checkpoint; once training is over it quits at once.
      const interrupt = onInterrupt(TRAIN_INTERRUPT);
      const showTraining = trainProgress();
      const showEvaluation = evalProgress();
      const onEvent = (event: QuickstartEvent): void => {
        switch (event.type) {
          case 'train':
            return showTraining(event.event);
          case 'trained':
            interrupt.release();
            process.stdout.write(summarise(event.result) + '\n');
            return;
          case 'exported':
            process.stdout.write(describeExport(event.result) + '\n');
            return;
          case 'evaluate':
            return showEvaluation(event.progress);
        }
      };
      try {
        const result = await quickstart({
          outDir: flags.outDir,
          epochs: flags.epochs,
          limit: flags.limit,
          evalCount: flags.evalN,
          evaluate: flags.eval,
          logger: consoleLogger(),
          signal: interrupt.signal,
          onEvent,
        });
        if (result.report) process.stdout.write(`\n${formatReportTable(result.report)}\nreport: ${result.reportDir}\n`);
      } finally {
        interrupt.release();
      }
    });
}
