/**
 * Named points in aekit's writes where a test can have the process killed (SIGKILL, as by the OOM
 * killer or `kill -9`), to prove that no kill there loses or corrupts anything. Set
 * `AEKIT_KILL_AT=<point>` or `<point>@<n>` (the n-th time the point is reached in the process,
 * default the first); unset, a fault point costs one environment lookup. The points are listed in
 * docs/reliability.md.
 */

/** The environment variable read by {@link faultPoint}. */
export const KILL_AT_ENV = 'AEKIT_KILL_AT';

const reached = new Map<string, number>();

/**
 * Mark the point `name`: when {@link KILL_AT_ENV} names it (and this is its n-th visit), the
 * process sends itself SIGKILL and never returns.
 */
export function faultPoint(name: string): void {
  const spec = process.env[KILL_AT_ENV];
  if (!spec) return;
  const at = spec.lastIndexOf('@');
  const point = at > 0 ? spec.slice(0, at) : spec;
  if (point !== name) return;
  const visit = (reached.get(name) ?? 0) + 1;
  reached.set(name, visit);
  if (visit !== (at > 0 ? Number(spec.slice(at + 1)) : 1)) return;
  process.kill(process.pid, 'SIGKILL');
  // The signal is delivered on the way back from the kernel; block until it lands.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}
