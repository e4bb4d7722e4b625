/**
 * The local executor: each run is an `aekit train` child process, up to `jobs` at a time.
 *
 * Runs are child processes rather than in-process calls because tfjs keeps one backend and one
 * set of kernels per process: separate processes are what lets runs go in parallel, and a run
 * that crashes (out of memory, a native abort) takes only itself down.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { AekitError } from '../../core/errors';
import { primaryMetric } from '../epoch-report';
import type { ExecutionContext } from './execution';
import { collectRun, trainArgs } from './plan';
import type { CollectedRun, Plan } from './plan';
import type { SweepAction } from './report';

/** How the start of a run is logged. */
const START_WORDS: Record<SweepAction, string> = { new: 'train', resumed: 'resume', restarted: 'restart', skipped: 'skip' };

/** Children still running, killed if this process exits first (they are in their own process group). */
const liveChildren = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveChildren) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** Run one training child with its output going to `log`; resolves with its exit code. */
function runChild(command: readonly string[], args: string[], log: string, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log, { flags: 'a' });
    out.on('open', () => {
      // Own process group: a Ctrl-C in the terminal reaches the sweep only, which then sends each
      // child exactly one SIGINT (a second one would make `aekit train` quit without a checkpoint).
      const child = spawn(command[0], [...command.slice(1), ...args], { stdio: ['ignore', out, out], detached: true, env: { ...process.env, CI: '1' } });
      const pid = child.pid;
      if (pid !== undefined) liveChildren.add(pid);
      const onAbort = () => child.kill('SIGINT');
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (error) => {
        out.end();
        reject(new AekitError('BAD_ARGUMENT', `cannot start the training command: ${error.message}`, { where: command.join(' ') }));
      });
      child.on('close', (code, killedBy) => {
        if (pid !== undefined) liveChildren.delete(pid);
        signal?.removeEventListener('abort', onAbort);
        out.end(() => resolve(code ?? (killedBy ? 128 : 1)));
      });
    });
    out.on('error', reject);
  });
}

/** One line for a run that just ended: status, name (and `note`), validation metric, error. */
export function endLine(result: CollectedRun, note = ''): string {
  const metric = primaryMetric(result.validation);
  return `${result.status} ${result.name}${note}${metric ? `: validation ${metric} ${result.validation[metric].toPrecision(5)}` : ''}${result.error ? `: ${result.error}` : ''}`;
}

/**
 * Train the plans as local child processes, `jobs` at a time. On abort, running children get one
 * SIGINT (they checkpoint and stop) and no new run starts.
 */
export async function runLocal(plans: readonly Plan[], ctx: ExecutionContext, jobs: number): Promise<Map<string, CollectedRun>> {
  const results = new Map<string, CollectedRun>();
  installExitHook();
  const queue = [...plans];
  const toTrain = plans.filter((p) => p.action !== 'skipped').length;
  let started = 0;
  const worker = async () => {
    for (let plan = queue.shift(); plan; plan = queue.shift()) {
      const log = ctx.logFor(plan.point.name);
      if (plan.action === 'skipped') {
        ctx.logger.info(`skip ${plan.point.name}: ${plan.reason === 'final' ? 'finished' : 'stopped by the NaN guard'} earlier`);
        results.set(plan.point.name, await collectRun(plan, log));
        continue;
      }
      if (ctx.signal?.aborted) {
        results.set(plan.point.name, await collectRun(plan, log, { notRun: true }));
        continue;
      }
      const index = ++started;
      const configFile = await ctx.writeRunConfig(plan);
      ctx.logger.info(`[${index}/${toTrain}] ${START_WORDS[plan.action]} ${plan.point.name} (log: ${log})`);
      const exitCode = await runChild(ctx.command, trainArgs(plan, configFile), log, ctx.signal);
      const result = await collectRun(plan, log, { exitCode });
      results.set(plan.point.name, result);
      ctx.logger.info(endLine(result));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, plans.length) }, worker));
  return results;
}
