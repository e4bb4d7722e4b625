/** Shared by the v2 protocol tests: the protocol's error object and request tensors. */
import { strict as assert } from 'node:assert';
import type { ERROR_STATUSES } from '../../src/serve/http-error';
import type { Fetched, RawResponse } from './helpers';

/** The protocol's error object: a 4xx (or the server's 5xx), JSON, exactly `{"error": <message>}`, and the aekit code in a header. */
export function assertV2Error(res: Fetched | RawResponse, status: number, code: keyof typeof ERROR_STATUSES, message?: RegExp): string {
  const body = 'bytes' in res ? res.bytes : res.body;
  const header = (name: string) => ('bytes' in res ? res.headers.get(name) : res.headers[name]) ?? undefined;
  assert.equal(res.status, status, body.toString('utf8').slice(0, 300));
  assert.match(header('content-type') ?? '', /^application\/json/);
  const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['error']);
  assert.equal(typeof parsed.error, 'string');
  assert.ok((parsed.error as string).length > 0);
  assert.equal(header('x-aekit-error-code'), code);
  if (message) assert.match(parsed.error as string, message);
  return parsed.error as string;
}

/** An FP32 request input. */
export const fp32 = (name: string, shape: number[], data: unknown[]) => ({ name, shape, datatype: 'FP32', data });
