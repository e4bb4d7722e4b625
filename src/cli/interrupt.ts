/**
 * Ctrl-C for the long verbs (train, sweep, quickstart): the first SIGINT says what happens and
 * aborts the library's `signal` (runs stop after the current step and write a checkpoint); the
 * second exits at once with 130.
 *
 * SIGTERM does the same: it is how a cluster stops a job (Slurm's scancel and time limit send it
 * to every process of the job, then SIGKILL after a grace period), so a training run killed there
 * leaves a checkpoint to resume from, as after Ctrl-C. Unlike Ctrl-C, a second SIGTERM changes
 * nothing: a job can get several (Slurm's own and the one its batch shell passes on), and each
 * would otherwise cut the checkpoint short. SIGKILL is the way to stop at once.
 */

/** A SIGINT/SIGTERM handler in place until {@link Interrupt.release}. */
export interface Interrupt {
  /** Aborted on the first Ctrl-C or SIGTERM. */
  signal: AbortSignal;
  /** Remove the handler: Ctrl-C and SIGTERM kill the process again. */
  release(): void;
}

/** Install the handler; `message` is printed on the first Ctrl-C (or SIGTERM) after 'interrupt: '. */
export function onInterrupt(message: string): Interrupt {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\ninterrupt: ${message} (Ctrl-C again to quit now)\n`);
    controller.abort();
  };
  const onSigterm = () => {
    if (controller.signal.aborted) return;
    process.stderr.write(`\ninterrupt: SIGTERM: ${message}\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}

/** What the first Ctrl-C during training says. */
export const TRAIN_INTERRUPT = 'finishing this step and writing a checkpoint';
