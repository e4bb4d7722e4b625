/**
 * The `sbatch` job script of a Slurm sweep: one job array, one task per configuration to train,
 * each running `aekit train` from the checkout that wrote the script (not a global install) on
 * its resolved config in the sweep folder.
 */
import { AekitError } from '../../core/errors';

/** Resources of every task, passed to Slurm as `#SBATCH` lines. */
export interface SlurmResources {
  /** `--partition` (one name, or several separated by commas). */
  partition?: string;
  /** `--time`: the limit per task, in Slurm's formats (`30`, `2:00:00`, `1-12`, ...). */
  time?: string;
  /** `--gpus-per-task`: a count, optionally with a type (`1`, `a100:1`). */
  gpusPerTask?: string;
  /** `--cpus-per-task`. */
  cpusPerTask?: number;
  /** More `#SBATCH` options, one per line, e.g. `--mem=8G` or `--account=lab`. */
  extra?: readonly string[];
}

/** Slurm's time formats: minutes, minutes:seconds, hours:minutes:seconds, days-hours[:minutes[:seconds]]. */
const TIME_PATTERN = /^(\d+(:\d{1,2}){0,2}|\d+-\d+(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/;
const PARTITION_PATTERN = /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/;
const GPUS_PATTERN = /^([A-Za-z0-9_.-]+:)?[1-9]\d*$/;

/**
 * Options the sweep sets itself (array, log files, working folder) or that have their own flag;
 * an extra line with one of them is refused, naming the flag to use.
 */
const RESERVED_OPTIONS: Record<string, string> = {
  '--array': 'the sweep writes the array itself (use --jobs to cap running tasks)',
  '-a': 'the sweep writes the array itself (use --jobs to cap running tasks)',
  '--output': 'task logs go to <sweep>/logs/',
  '-o': 'task logs go to <sweep>/logs/',
  '--chdir': 'tasks run in the folder the sweep was started from',
  '-D': 'tasks run in the folder the sweep was started from',
  '--wrap': 'the sweep writes the script itself',
  '--partition': 'use --partition',
  '-p': 'use --partition',
  '--time': 'use --time',
  '-t': 'use --time',
  '--cpus-per-task': 'use --cpus-per-task',
  '-c': 'use --cpus-per-task',
  '--gpus-per-task': 'use --gpus-per-task',
};

/** Check resources before anything is written; errors name the flag and the value. */
export function checkSlurmResources(resources: SlurmResources): SlurmResources {
  const bad = (flag: string, value: unknown, expected: string) => new AekitError('BAD_ARGUMENT', `--${flag}: expected ${expected}, got '${String(value)}'`);
  if (resources.partition !== undefined && !PARTITION_PATTERN.test(resources.partition)) throw bad('partition', resources.partition, 'a partition name (letters, digits, . _ -), or several separated by commas');
  if (resources.time !== undefined && !TIME_PATTERN.test(resources.time)) throw bad('time', resources.time, 'a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS');
  if (resources.gpusPerTask !== undefined && !GPUS_PATTERN.test(resources.gpusPerTask)) throw bad('gpus-per-task', resources.gpusPerTask, 'a count of at least 1, optionally with a type (a100:1)');
  if (resources.cpusPerTask !== undefined && !(Number.isInteger(resources.cpusPerTask) && resources.cpusPerTask >= 1)) throw bad('cpus-per-task', resources.cpusPerTask, 'a whole number of at least 1');
  const extra = (resources.extra ?? []).map((line) => {
    const option = line.trim().replace(/^#SBATCH\s+/, '');
    if (!/^--?[A-Za-z]/.test(option) || /[\r\n]/.test(option)) throw bad('sbatch', line, 'one sbatch option such as --mem=8G');
    const name = option.split(/[=\s]/)[0];
    // A short option may carry its value (-pgpu): its name is the first two characters.
    const key = name.startsWith('--') ? name : name.slice(0, 2);
    const reserved = RESERVED_OPTIONS[key];
    if (reserved) throw new AekitError('BAD_ARGUMENT', `--sbatch '${line}': ${key} is not allowed here: ${reserved}`);
    // sbatch splits a directive at spaces unless they are quoted: quote a value that has some.
    const value = /^(--[A-Za-z-]+)=(.*\s.*)$/.exec(option);
    return value && !value[2].includes('"') ? `${value[1]}="${value[2]}"` : option;
  });
  return { ...resources, extra };
}

/** An `--array` value: indices as ranges (`0,2-5`), then `%N` when at most N may run at once. */
export function arraySpec(indices: readonly number[], maxRunning?: number): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',') + (maxRunning !== undefined ? `%${maxRunning}` : '');
}

/** A word for bash, single-quoted. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A path in an `#SBATCH` line, double-quoted: sbatch splits directives on spaces otherwise. */
function sbatchPath(file: string): string {
  if (/["\r\n]/.test(file)) throw new AekitError('BAD_ARGUMENT', 'a path in a Slurm job script cannot hold a double quote or a line break', { where: file });
  return `"${file}"`;
}

/** Everything the job script needs. */
export interface JobScriptInput {
  sweepName: string;
  /** The sweep folder, absolute. */
  dir: string;
  /** Where the tasks run (the folder the sweep was started from, so relative paths in configs hold), absolute. */
  cwd: string;
  /** `node` and `bin/aekit.js` of this checkout. */
  command: readonly string[];
  /** Run names of all the sweep's points, by point index (the array task ID). */
  names: readonly string[];
  /** Epochs of each point (a resumed task trains up to them). */
  epochs: readonly number[];
  /** The point indices to run. */
  tasks: readonly number[];
  /** At most this many tasks at once. */
  maxRunning?: number;
  resources: SlurmResources;
}

/** The job script's text. */
export function slurmJobScript(input: JobScriptInput): string {
  const r = input.resources;
  const directives = [
    `--job-name=aekit-${input.sweepName}`,
    `--array=${arraySpec(input.tasks, input.maxRunning)}`,
    `--chdir=${sbatchPath(input.cwd)}`,
    // Slurm expands %A (job) and %a (task) in the log name, so a % of the folder itself is doubled.
    `--output=${sbatchPath(`${input.dir.replace(/%/g, '%%')}/logs/slurm-%A_%a.out`)}`,
    ...(r.partition !== undefined ? [`--partition=${r.partition}`] : []),
    ...(r.time !== undefined ? [`--time=${r.time}`] : []),
    ...(r.cpusPerTask !== undefined ? [`--cpus-per-task=${r.cpusPerTask}`] : []),
    ...(r.gpusPerTask !== undefined ? [`--gpus-per-task=${r.gpusPerTask}`] : []),
    ...(r.extra ?? []),
  ];
  return `#!/bin/bash
# aekit sweep '${input.sweepName}': ${input.tasks.length} of ${input.names.length} configurations, one Slurm array task each.
# Written and submitted by \`aekit sweep --executor slurm\`; rerun that command rather than sbatch:
# it skips finished runs, follows the job and builds the report.
${directives.map((d) => `#SBATCH ${d}`).join('\n')}
set -uo pipefail

# The aekit checkout that wrote this script (its node and CLI), not a global install.
AEKIT=(${input.command.map(shellWord).join(' ')})
SWEEP=${shellWord(input.dir)}
NAMES=(${input.names.map(shellWord).join(' ')})
EPOCHS=(${input.epochs.join(' ')})

task=\${SLURM_ARRAY_TASK_ID:?submit this script with sbatch (it is a job array)}
name=\${NAMES[$task]}
run="$SWEEP/runs/$name"
log="$SWEEP/logs/$name.log"

# The task trains what its run folder needs, so a requeued task resumes instead of starting over
# (from any complete checkpoint: a task killed before latest.json was written has one too).
if compgen -G "$run/checkpoints/*/checkpoint.json" >/dev/null; then
  args=(train --resume "$run" --epochs "\${EPOCHS[$task]}")
elif [[ -f "$run/config.json" ]]; then
  args=(train --config "$SWEEP/configs/$name.json" --overwrite)
else
  args=(train --config "$SWEEP/configs/$name.json")
fi
say() { echo "$(date -Is) slurm task \${SLURM_ARRAY_JOB_ID}_$task on $(hostname): $*" | tee -a "$log"; }
say "aekit \${args[*]}"

# scancel and the time limit send SIGTERM to every process of the task, then SIGKILL after the
# cluster's KillWait: aekit train stops at its next chance and writes a checkpoint. This shell waits
# for that (Slurm kills whatever is left once it ends) and passes a SIGTERM of its own on, so
# --signal=B:TERM@<seconds> warns aekit train ahead of the time limit.
CI=1 "\${AEKIT[@]}" "\${args[@]}" >>"$log" 2>&1 &
pid=$!
trap 'say "SIGTERM: aekit train is writing a checkpoint"; kill -TERM $pid 2>/dev/null' TERM
wait $pid
code=$?
# A trapped signal ends a wait early: wait until aekit train has exited, then take its status
# (a wait that already returned it leaves 127 for the next one).
while kill -0 $pid 2>/dev/null; do
  wait $pid
  code=$?
done
wait $pid 2>/dev/null
last=$?
if ((last != 127)); then code=$last; fi
say "aekit train exited with $code"
exit $code
`;
}
