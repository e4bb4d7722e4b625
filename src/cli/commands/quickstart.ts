/** `aekit quickstart`: the README's first command — train a small conv VAE on MNIST end to end. */
import * as path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { EXPERIMENTS_DIR } from '../../core/paths';
import { intFlag, parseOptions, readJsonFile, setPath } from '../common';
import { runTraining, summarise } from './train';

const optionsSchema = z.object({
  outDir: z.string().default('runs'),
  epochs: intFlag.optional(),
  limit: intFlag.optional(),
});

/** The recipe the quickstart runs. */
export const QUICKSTART_CONFIG = path.join(EXPERIMENTS_DIR, 'quickstart.json');

export function quickstartCommand(): Command {
  return new Command('quickstart')
    .description(`Train a small conv VAE on MNIST (bundled, no download) with ${path.relative(process.cwd(), QUICKSTART_CONFIG) || QUICKSTART_CONFIG}; replaces runs/quickstart.`)
    .option('--out-dir <dir>', 'where the run folder goes', 'runs')
    .option('--epochs <n>', 'override the number of epochs (smoke tests)')
    .option('--limit <n>', 'override the number of MNIST images (smoke tests)')
    .addHelpText('after', '\nExample:\n  npx aekit quickstart\n')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      const config = await readJsonFile(QUICKSTART_CONFIG);
      setPath(config, 'outDir', flags.outDir);
      if (flags.epochs !== undefined) setPath(config, 'train.epochs', flags.epochs);
      if (flags.limit !== undefined) setPath(config, 'data.dataset.limit', flags.limit);
      const result = await runTraining(config, { resume: false, overwrite: true });
      process.stdout.write(summarise(result) + '\n');
    });
}
