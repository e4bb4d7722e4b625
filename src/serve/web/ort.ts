/**
 * The browser module's one onnxruntime-web import (transformers.js's `backends/onnx.js` pattern):
 * the execution providers a page can ask for, and session creation, one at a time, on the first
 * provider that works. `loadDecoder` and `loadTrainer` both open their sessions here.
 */
import * as ort from 'onnxruntime-web';

export { ort };

/** Execution providers a page can ask for, in onnxruntime-web's names. */
export const WEB_EXECUTION_PROVIDERS = Object.freeze(['webgpu', 'wasm'] as const);
/** See {@link WEB_EXECUTION_PROVIDERS}. */
export type WebExecutionProvider = (typeof WEB_EXECUTION_PROVIDERS)[number];

/** Where notes and warnings go. */
export type WebLog = (level: 'info' | 'warn', message: string) => void;

/** The default {@link WebLog}: the console, prefixed. */
export const defaultLog: WebLog = (level, message) => {
  if (level === 'warn') console.warn(`aekit-web: ${message}`);
  else console.info(`aekit-web: ${message}`);
};

/**
 * Check a list of providers, with an error naming the valid ones.
 * @throws Error for an empty list or an unknown name.
 */
export function checkProviders(choice: readonly WebExecutionProvider[]): WebExecutionProvider[] {
  if (!Array.isArray(choice) || choice.length === 0) throw new Error(`aekit-web: executionProviders must be a non-empty list of: ${WEB_EXECUTION_PROVIDERS.join(', ')}`);
  for (const ep of choice) {
    if (!WEB_EXECUTION_PROVIDERS.includes(ep)) throw new Error(`aekit-web: unknown execution provider '${String(ep)}'; expected one of: ${WEB_EXECUTION_PROVIDERS.join(', ')}`);
  }
  return [...choice];
}

// Sessions are created one at a time: onnxruntime-web initialises its wasm instance on the first
// one, and concurrent first sessions race on it.
let sessionQueue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(task: () => Promise<T>): Promise<T> {
  const next = sessionQueue.then(task, task);
  sessionQueue = next.catch(() => undefined);
  return next;
}

/**
 * Open a session on the first provider in `providers` whose session loads `bytes`; failures of
 * the others are logged, and all of them are reported if none works.
 * @throws Error naming `what` and every provider's failure.
 */
export async function openSession(bytes: Uint8Array, providers: readonly WebExecutionProvider[], what: string, log: WebLog): Promise<{ session: ort.InferenceSession; provider: WebExecutionProvider }> {
  const failures: string[] = [];
  for (const ep of providers) {
    try {
      const session = await oneAtATime(() => ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' }));
      return { session, provider: ep };
    } catch (error) {
      failures.push(`${ep}: ${(error as Error).message}`);
      log('warn', `execution provider '${ep}' could not load ${what}: ${(error as Error).message}`);
    }
  }
  throw new Error(`aekit-web: no execution provider could load ${what}: ${failures.join('; ')}`);
}
