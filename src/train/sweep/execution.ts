/**
 * What both executors (local child processes, Slurm job arrays) share: the sweep folder's layout
 * (`configs/`, `logs/`), the `aekit train` command of this checkout, logging and Ctrl-C.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write';
import { AekitError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { PACKAGE_ROOT } from '../../core/paths';
import type { Plan } from './plan';

/** The sweep as an executor sees it. */
export interface ExecutionContext {
  /** The sweep folder `<outDir>/<name>`. */
  dir: string;
  /** The sweep's name (job names, messages). */
  name: string;
  logger: Logger;
  signal?: AbortSignal;
  /** The command that trains one run, given `train ...` arguments. */
  command: readonly string[];
  /** A run's log: `<sweep>/logs/<run>.log`. */
  logFor(name: string): string;
  /** Write a run's resolved config to `<sweep>/configs/<run>.json` and return the file. */
  writeRunConfig(plan: Plan): Promise<string>;
}

/** The `aekit` launcher of this checkout: this node and `bin/aekit.js`. */
export const AEKIT_COMMAND: readonly string[] = [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'aekit.js')];

/** {@link AEKIT_COMMAND}, once the CLI it runs is built (dist/). */
export function defaultCommand(): readonly string[] {
  if (!existsSync(path.join(PACKAGE_ROOT, 'dist', 'cli', 'index.js'))) {
    throw new AekitError('FILE_NOT_FOUND', 'the aekit CLI is not built (dist/cli/index.js is missing); run `npm run build` first', { where: PACKAGE_ROOT });
  }
  return AEKIT_COMMAND;
}

/** A run's log in the sweep folder: `<sweep>/logs/<run>.log`. */
export function runLogFile(dir: string, run: string): string {
  return path.join(dir, 'logs', `${run}.log`);
}

/** Create `logs/` and `configs/` in the sweep folder and the context around them. */
export async function executionContext(dir: string, name: string, options: { logger: Logger; signal?: AbortSignal; command?: readonly string[] }): Promise<ExecutionContext> {
  const logsDir = path.join(dir, 'logs');
  const configsDir = path.join(dir, 'configs');
  const command = options.command ?? defaultCommand();
  await fs.mkdir(logsDir, { recursive: true });
  await fs.mkdir(configsDir, { recursive: true });
  return {
    dir,
    name,
    logger: options.logger,
    signal: options.signal,
    command,
    logFor: (run) => runLogFile(dir, run),
    writeRunConfig: async (plan) => {
      const file = path.join(configsDir, `${plan.point.name}.json`);
      await writeFileAtomic(file, JSON.stringify(plan.point.config, null, 2) + '\n', { force: true });
      return file;
    },
  };
}
