/** The `aekit` command line: one module per verb under commands/; this file only wires them. */
import { Command, CommanderError } from 'commander';
import { isAekitError } from '../core/errors';
import { AEKIT_VERSION } from '../core/version';
import { benchCommand } from './commands/bench';
import { browserCommand } from './commands/browser';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { fidCommand } from './commands/fid';
import { latentCommand } from './commands/latent';
import { quickstartCommand } from './commands/quickstart';
import { serveCommand } from './commands/serve';
import { trainCommand } from './commands/train';
import { sweepCommand } from './commands/sweep';
import { DryRunDone, addDryRun } from './dry-run';

/** Build the program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('aekit')
    .description('Autoencoder-family generative models in TypeScript: train, export to ONNX, evaluate, serve.')
    .version(AEKIT_VERSION)
    .showHelpAfterError()
    .addCommand(quickstartCommand())
    .addCommand(trainCommand())
    .addCommand(exportCommand())
    .addCommand(evalCommand())
    .addCommand(fidCommand())
    .addCommand(serveCommand())
    .addCommand(sweepCommand())
    .addCommand(latentCommand())
    .addCommand(benchCommand())
    .addCommand(browserCommand());
  return addDryRun(program);
}

/** Run the CLI; AekitErrors print as one clean line (no stack) and exit 1. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof DryRunDone) return;
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (isAekitError(error)) {
      process.stderr.write(`aekit: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
