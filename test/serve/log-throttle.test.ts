/** Rate-limited logging: a fault clients can trigger at will is logged once a minute at most. */
import { strict as assert } from 'node:assert';
import { LOG_INTERVAL_MS, LogThrottle } from '../../src/serve/log-throttle';

describe('serve: log throttle', () => {
  it('logs each kind of line once per minute, then says how many were left out', () => {
    const lines: string[] = [];
    let now = 1_000_000;
    const log = (message: string) => lines.push(message);
    const throttle = new LogThrottle({ error: log, warn: log, info: log, debug: log }, LOG_INTERVAL_MS, () => now);
    assert.equal(LOG_INTERVAL_MS, 60_000);
    for (let i = 0; i < 5; i++) throttle.log('warn', 'decode|OUTPUT_NOT_FINITE', () => `overflow ${i}`);
    throttle.log('warn', 'encode|OUTPUT_NOT_FINITE', () => 'other kind');
    assert.deepEqual(lines, ['overflow 0', 'other kind']);
    now += 59_999;
    throttle.log('warn', 'decode|OUTPUT_NOT_FINITE', () => 'still inside the minute');
    now += 1;
    throttle.log('warn', 'decode|OUTPUT_NOT_FINITE', () => 'a minute later');
    assert.deepEqual(lines.slice(2), ['a minute later (5 more like this in the last 60 s, not logged)']);
    now += 60_000;
    throttle.log('warn', 'decode|OUTPUT_NOT_FINITE', () => 'quiet since');
    assert.equal(lines[3], 'quiet since');
  });

  it('builds the message only when it is written', () => {
    let built = 0;
    const throttle = new LogThrottle({ error() {}, warn() {}, info() {}, debug() {} });
    for (let i = 0; i < 100; i++) throttle.log('error', 'k', () => String(++built));
    assert.equal(built, 1);
  });
});
