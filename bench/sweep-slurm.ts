/**
 * What the Slurm executor costs next to the local one, on the same machine: `aekit sweep` of
 * experiments/mnist-vae-grid-small.json (4 runs) with `--executor local --jobs <cpus>`, and with
 * `--executor slurm --cpus-per-task 1` on a throwaway single-node cluster (test/helpers/slurm.ts,
 * so as many tasks at once as the node has CPUs), at the default poll interval and at `--poll 1`.
 * Also the latency of one `sbatch` and one `squeue` call. Each sweep starts from an empty folder.
 *
 * Usage (as root, with slurm-wlm and munge installed): npm run build && npx tsx bench/sweep-slurm.ts
 * Figures and the exact command: README.md, "Scaling out".
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { slurmUnavailable, startSlurmCluster } from '../test/helpers/slurm';

const ROOT = path.resolve(__dirname, '..');
const RECIPE = path.join(ROOT, 'experiments', 'mnist-vae-grid-small.json');
/** Calls timed per Slurm command (the median is reported). */
const LATENCY_CALLS = 10;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Run the built CLI; resolves with its wall time in seconds (throws on a non-zero exit). */
function timedSweep(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'aekit.js'), 'sweep', '--config', RECIPE, ...args], { env: { ...env, CI: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - start) / 1000) : reject(new Error(`aekit sweep ${args.join(' ')} exited ${code}\n${stderr}`))));
  });
}

async function main(): Promise<void> {
  const reason = slurmUnavailable();
  if (reason) throw new Error(reason);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-slurm-'));
  const cluster = await startSlurmCluster();
  try {
    const jobs = String(cluster.cpus);
    const rows: [string, number][] = [];
    rows.push([`local, --jobs ${jobs}`, await timedSweep(['--out-dir', path.join(tmp, 'local'), '--jobs', jobs], cluster.env)]);
    rows.push(['slurm, --cpus-per-task 1, default --poll (10 s)', await timedSweep(['--out-dir', path.join(tmp, 'slurm-10'), '--executor', 'slurm', '--cpus-per-task', '1'], cluster.env)]);
    rows.push(['slurm, --cpus-per-task 1, --poll 1', await timedSweep(['--out-dir', path.join(tmp, 'slurm-1'), '--executor', 'slurm', '--cpus-per-task', '1', '--poll', '1'], cluster.env)]);

    const timeCall = async (command: string, args: string[]) => {
      const ms: number[] = [];
      for (let i = 0; i < LATENCY_CALLS; i++) {
        const start = performance.now();
        const result = await cluster.run(command, args);
        if (result.code !== 0) throw new Error(`${command} failed: ${result.stderr}`);
        ms.push(performance.now() - start);
      }
      return median(ms);
    };
    const sbatchMs = await timeCall('sbatch', ['--parsable', '--hold', '--output=/dev/null', '--wrap', 'true']);
    const squeueMs = await timeCall('squeue', ['--noheader', '--array', '--states=all', '--format=%K|%T|%r|%N']);

    process.stdout.write(`\nexperiments/mnist-vae-grid-small.json (4 runs), ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n\n`);
    process.stdout.write('| executor | sweep wall time (s) |\n| --- | ---: |\n');
    for (const [name, seconds] of rows) process.stdout.write(`| ${name} | ${seconds.toFixed(1)} |\n`);
    process.stdout.write(`\nmedian of ${LATENCY_CALLS}: sbatch ${sbatchMs.toFixed(0)} ms, squeue ${squeueMs.toFixed(0)} ms\n`);
  } finally {
    await cluster.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
