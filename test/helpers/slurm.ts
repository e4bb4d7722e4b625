/**
 * A throwaway single-node Slurm cluster for tests: Debian's munged, slurmctld and slurmd
 * (packages slurm-wlm and munge), started as children of the test process from a minimal
 * slurm.conf in a temp folder, and stopped afterwards. It needs no systemd and no cgroups
 * (proctrack/linuxproc, task/none), listens on free ports of 127.0.0.1 and has its own munge key
 * and socket, so it leaves any cluster the machine belongs to alone. slurmd must run as root.
 *
 * Client commands reach it through `SLURM_CONF` (see {@link SlurmCluster.env}).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, openSync, closeSync, promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** How to install what the cluster needs (Debian; .ci/run does it). */
export const SLURM_INSTALL = 'apt-get install -y slurm-wlm munge';

/** The daemons and clients the cluster and the sweep use. */
const DAEMONS = ['munged', 'slurmctld', 'slurmd'];
const CLIENTS = ['sbatch', 'squeue', 'scancel', 'sinfo'];

/** Where Debian puts daemons (not on a non-root PATH). */
const SBIN = ['/usr/sbin', '/sbin'];

/** The partition every job lands in. */
export const TEST_PARTITION = 'aekit';
const NODE_NAME = 'aekit-node';

/** How long the daemons get to come up (slurmd registers within a second or two here). */
const START_TIMEOUT_MS = 30_000;

function findCommand(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...SBIN];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return path.join(dir, name);
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Why a Slurm cluster cannot be started here (a one-line skip reason with the fix), or undefined. */
export function slurmUnavailable(): string | undefined {
  const missing = [...DAEMONS, ...CLIENTS].filter((c) => !findCommand(c));
  if (missing.length > 0) return `Slurm is not installed (${missing.join(', ')} missing): ${SLURM_INSTALL}`;
  if (process.getuid?.() !== 0) return 'starting slurmd needs root (CI runs the tests as root)';
  return undefined;
}

/** A command's exit code and output. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as NodeJS.ErrnoException).code === 'number' ? Number((error as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, diagnose: () => Promise<string>): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`test Slurm cluster: ${what} within ${timeoutMs / 1000} s\n${await diagnose()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A running test cluster. */
export interface SlurmCluster {
  /** The temp folder holding its config, state, logs and munge socket. */
  dir: string;
  /** The environment for client commands (and the sweeps that call them): `SLURM_CONF` set. */
  env: NodeJS.ProcessEnv;
  /** CPUs of its one node (tasks of one CPU each run this many at a time). */
  cpus: number;
  /** Run a Slurm client against this cluster. */
  run(command: string, args: readonly string[]): Promise<CommandResult>;
  /** Cancel every job, stop the daemons and remove the folder. */
  stop(): Promise<void>;
}

/** Daemons still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Start munged, slurmctld and slurmd; resolves once the node is idle and takes jobs. */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-slurm-'));
  // munged refuses a socket in a folder that not everyone can enter.
  await fs.chmod(dir, 0o755);
  await fs.mkdir(path.join(dir, 'state'));
  await fs.mkdir(path.join(dir, 'spool'));
  const children: ChildProcess[] = [];
  const daemon = (name: string, args: string[], env: NodeJS.ProcessEnv) => {
    const out = openSync(path.join(dir, `${name}.out`), 'a');
    const child = spawn(findCommand(name)!, args, { env, stdio: ['ignore', out, out] });
    closeSync(out);
    children.push(child);
    live.add(child);
    child.on('exit', () => live.delete(child));
    return child;
  };
  const tails = async () => {
    const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.out') || f.endsWith('.log'));
    const parts = await Promise.all(files.map(async (f) => `--- ${f}\n${(await fs.readFile(path.join(dir, f), 'utf8')).split('\n').slice(-15).join('\n')}`));
    return parts.join('\n');
  };

  const stopDaemons = async () => {
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };

  try {
    const socket = path.join(dir, 'munge.socket');
    await fs.writeFile(path.join(dir, 'munge.key'), randomBytes(1024), { mode: 0o400 });
    daemon('munged', ['--foreground', `--key-file=${dir}/munge.key`, `--socket=${socket}`, `--pid-file=${dir}/munged.pid`, `--log-file=${dir}/munged.log`, `--seed-file=${dir}/munged.seed`], process.env);
    await waitFor('munged did not create its socket', () => existsSync(socket), START_TIMEOUT_MS, tails);

    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    const host = os.hostname().split('.')[0];
    const probe = await run(findCommand('slurmd')!, ['-C'], process.env);
    const cpus = Number(/CPUs=(\d+)/.exec(probe.stdout)?.[1] ?? os.cpus().length);
    const conf = path.join(dir, 'slurm.conf');
    await fs.writeFile(
      conf,
      [
        'ClusterName=aekit-test',
        `SlurmctldHost=${host}(127.0.0.1)`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        `StateSaveLocation=${dir}/state`,
        `SlurmdSpoolDir=${dir}/spool`,
        `SlurmctldPidFile=${dir}/slurmctld.pid`,
        `SlurmdPidFile=${dir}/slurmd.pid`,
        `SlurmctldLogFile=${dir}/slurmctld.log`,
        `SlurmdLogFile=${dir}/slurmd.log`,
        // No systemd or cgroups in a CI container: track processes by parentage, bind nothing.
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'JobCompType=jobcomp/none',
        'SwitchType=switch/none',
        'MpiDefault=none',
        'MailProg=/bin/true',
        // Tasks share the node by CPU, so a one-CPU task leaves the others free.
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'SchedulerType=sched/builtin',
        'ReturnToService=2',
        // Trust the node line below whatever hardware slurmd finds (containers report oddly).
        'SlurmdParameters=config_overrides',
        // What a cluster gives a job between SIGTERM and SIGKILL (Slurm's default).
        'KillWait=30',
        `NodeName=${NODE_NAME} NodeHostname=${host} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN`,
        `PartitionName=${TEST_PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    const env = { ...process.env, SLURM_CONF: conf };
    daemon('slurmctld', ['-D'], env);
    daemon('slurmd', ['-D', '-N', NODE_NAME], env);
    await waitFor(
      `node ${NODE_NAME} did not become idle`,
      async () => /^idle/.test((await run(findCommand('sinfo')!, ['--noheader', '--nodes', NODE_NAME, '--format=%T'], env)).stdout.trim()),
      START_TIMEOUT_MS,
      tails,
    );

    return {
      dir,
      env,
      cpus,
      run: (command, args) => run(findCommand(command) ?? command, args, env),
      stop: async () => {
        // Jobs first: their processes belong to slurmstepd, which outlives slurmd.
        const jobs = (await run(findCommand('squeue')!, ['--noheader', '--format=%A'], env)).stdout.split('\n').filter(Boolean);
        if (jobs.length > 0) await run(findCommand('scancel')!, jobs, env);
        await waitFor(
          'jobs did not end',
          async () => (await run(findCommand('squeue')!, ['--noheader', '--format=%A'], env)).stdout.trim() === '',
          60_000,
          tails,
        ).catch(() => undefined);
        await stopDaemons();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopDaemons();
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}
