/**
 * `--dry-run` on every verb: commander parses the arguments, the verb's own schema checks the
 * flags (`parseOptions`), and then, instead of reading data, training or writing anything, the
 * verb's plan is printed and the command exits 0. The README's commands are checked this way
 * (test/docs/readme-commands.test.ts), so a command that works in the docs parses in the CLI.
 * Verbs with a dry run of their own (`aekit sweep --dry-run` prints each configuration) keep it.
 */
import type { Command } from 'commander';

/** Thrown by {@link stopIfDryRun} once the plan is printed; `main` turns it into exit code 0. */
export class DryRunDone extends Error {
  constructor() {
    super('dry run: nothing was done');
  }
}

/** The verb about to run with `--dry-run` (set by the preAction hook, read by {@link stopIfDryRun}). */
let pending: { verb: string; args: readonly string[] } | undefined;
const added = new WeakSet<Command>();

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Give every leaf verb of `program` without one of its own a `--dry-run` flag. */
export function addDryRun(program: Command): Command {
  const visit = (command: Command): void => {
    for (const sub of command.commands) {
      if (sub.commands.length > 0) visit(sub);
      else if (!sub.options.some((o) => o.long === '--dry-run')) {
        sub.option('--dry-run', 'check the arguments and flags, print what would run, and stop: nothing is read, trained or written');
        added.add(sub);
      }
    }
  };
  visit(program);
  program.hook('preAction', (_root, action) => {
    pending = added.has(action) && action.opts().dryRun === true ? { verb: commandPath(action), args: [...action.args] } : undefined;
  });
  return program;
}

/**
 * Called with a verb's validated flags: under `--dry-run`, print the plan and throw
 * {@link DryRunDone}; otherwise return and let the verb work.
 */
export function stopIfDryRun(flags: unknown): void {
  if (!pending) return;
  const { verb, args } = pending;
  pending = undefined;
  const set = Object.entries((flags ?? {}) as Record<string, unknown>).filter(([key, value]) => key !== 'dryRun' && value !== undefined && !(Array.isArray(value) && value.length === 0));
  const shown = set.map(([key, value]) => `  --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${JSON.stringify(value)}`);
  process.stdout.write([`dry run: ${verb}${args.length > 0 ? ` ${args.join(' ')}` : ''}`, ...shown, 'arguments and flags are valid; nothing was done'].join('\n') + '\n');
  throw new DryRunDone();
}
