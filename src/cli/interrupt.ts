/**
 * Ctrl-C for the long verbs (train, sweep, quickstart): the first SIGINT says what happens and
 * aborts the library's `signal` (runs stop after the current step and write a checkpoint); the
 * second exits at once with 130.
 */

/** A SIGINT handler in place until {@link Interrupt.release}. */
export interface Interrupt {
  /** Aborted on the first Ctrl-C. */
  signal: AbortSignal;
  /** Remove the handler: Ctrl-C kills the process again. */
  release(): void;
}

/** Install the handler; `message` is printed on the first Ctrl-C after 'interrupt: '. */
export function onInterrupt(message: string): Interrupt {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\ninterrupt: ${message} (Ctrl-C again to quit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, release: () => process.off('SIGINT', onSigint) };
}

/** What the first Ctrl-C during training says. */
export const TRAIN_INTERRUPT = 'finishing this step and writing a checkpoint';
