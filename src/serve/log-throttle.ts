/**
 * Rate-limited logging for faults that clients can trigger at will (a latent that overflows the
 * decoder, a server fault hit by every request): without a limit, every such request writes to the
 * log, and a client can flood it. Each kind of line is written at most once per interval; the next
 * one written says how many were left out in between. No timer: nothing is pending at shutdown.
 */
import type { Logger } from '../core/log';

/** How often one kind of line may be logged: once a minute, as the serving issue asks. */
export const LOG_INTERVAL_MS = 60_000;

interface Slot {
  lastAt: number;
  suppressed: number;
}

/** Writes each kind of line (a key) at most once per {@link LOG_INTERVAL_MS}. */
export class LogThrottle {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Log `message()` at `level` unless a line of this `key` was logged within the interval. */
  log(level: 'error' | 'warn', key: string, message: () => string): void {
    const now = this.now();
    const slot = this.slots.get(key);
    if (slot && now - slot.lastAt < this.intervalMs) {
      slot.suppressed++;
      return;
    }
    const left = slot && slot.suppressed > 0 ? ` (${slot.suppressed} more like this in the last ${Math.round((now - slot.lastAt) / 1000)} s, not logged)` : '';
    this.logger[level](`${message()}${left}`);
    this.slots.set(key, { lastAt: now, suppressed: 0 });
    // Keys are few (route x fault), but a message in a key must not grow the map without bound.
    if (this.slots.size > 1000) this.slots.delete(this.slots.keys().next().value as string);
  }
}
