/**
 * The one place that loads TensorFlow.js and picks its backend.
 *
 * Ladder (first that loads wins): tfjs-node-gpu -> tfjs-node -> wasm -> cpu. tfjs-node(-gpu) are
 * optionalDependencies: their install step downloads libtensorflow, which fails on offline
 * machines, so they are often absent and we fall back to the wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import { AekitError, unknownName } from './errors';
import { registerWasmConvFilterGradient } from './wasm-conv-filter-grad';

export { tf };

/** User-facing backend names, in ladder order. */
export const TFJS_BACKENDS = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

/** What {@link useBackend} settled on, and why the ones above it were skipped. */
export interface BackendChoice {
  name: TfjsBackendName;
  /** tfjs's own name for the backend ('tensorflow', 'wasm', 'cpu'). */
  tfjsName: string;
  skipped: { name: TfjsBackendName; reason: string }[];
}

let current: BackendChoice | undefined;

function quietly<T>(fn: () => T): T {
  // tfjs prints a banner suggesting tfjs-node when it runs in Node; it is noise for CLI users.
  const warn = console.warn;
  const log = console.log;
  console.warn = () => {};
  console.log = () => {};
  try {
    return fn();
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

async function tryBackend(name: TfjsBackendName): Promise<string> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node': {
      const pkg = name === 'tfjs-node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      quietly(() => require(pkg));
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
      return 'tensorflow';
    }
    case 'wasm': {
      quietly(() => require('@tensorflow/tfjs-backend-wasm'));
      if (!(await quietly(() => tf.setBackend('wasm')))) throw new Error('wasm backend did not initialise');
      registerWasmConvFilterGradient();
      return 'wasm';
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not initialise');
      return 'cpu';
    }
  }
}

/**
 * Select a tfjs backend: a named one (error if it cannot start) or, with 'auto', the first of the
 * ladder that starts. Idempotent: a second call with the same request returns the same choice.
 */
export async function useBackend(request: TfjsBackendName | 'auto' = 'auto'): Promise<BackendChoice> {
  if (current && (request === 'auto' || request === current.name)) return current;
  if (request !== 'auto' && !(TFJS_BACKENDS as readonly string[]).includes(request)) {
    throw unknownName('tfjs backend', request, [...TFJS_BACKENDS, 'auto']);
  }
  const candidates: TfjsBackendName[] = request === 'auto' ? [...TFJS_BACKENDS] : [request];
  const skipped: BackendChoice['skipped'] = [];
  for (const name of candidates) {
    try {
      const tfjsName = await tryBackend(name);
      await tf.ready();
      current = { name, tfjsName, skipped };
      return current;
    } catch (error) {
      skipped.push({ name, reason: firstLine(error) });
    }
  }
  throw new AekitError(
    'BACKEND_UNAVAILABLE',
    `no tfjs backend could start: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`,
  );
}

/** The backend chosen so far, if any. */
export function currentBackend(): BackendChoice | undefined {
  return current;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].slice(0, 200);
}
