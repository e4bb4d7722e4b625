/**
 * Ctrl-C for the long verbs (train, sweep, quickstart): the first SIGINT says what happens and
 * aborts the library's `signal` (runs stop after the current step and write a checkpoint); the
 * second exits at once with 130.
 *
 * SIGTERM does the same: it is how a cluster stops a job (Slurm's scancel and time limit send it
 * to every process of the job, then SIGKILL after a grace period), so a training run killed there
 * leaves a checkpoint to resume from, as after Ctrl-C.
 */

/** A SIGINT/SIGTERM handler in place until {@link Interrupt.release}. */
export interface Interrupt {
  /** Aborted on the first Ctrl-C or SIGTERM. */
  signal: AbortSignal;
  /** Remove the handler: Ctrl-C and SIGTERM kill the process again. */
  release(): void;
}

/** Exit codes after a second signal: 128 + the signal's number, as a shell reports it. */
const EXIT_CODES: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/** Install the handler; `message` is printed on the first Ctrl-C after 'interrupt: '. */
export function onInterrupt(message: string): Interrupt {
  const controller = new AbortController();
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (controller.signal.aborted) process.exit(EXIT_CODES[signal]);
    process.stderr.write(signal === 'SIGINT' ? `\ninterrupt: ${message} (Ctrl-C again to quit now)\n` : `\ninterrupt: SIGTERM: ${message} (a second SIGTERM quits now)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** What the first Ctrl-C during training says. */
export const TRAIN_INTERRUPT = 'finishing this step and writing a checkpoint';
