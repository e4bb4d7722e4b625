/**
 * Training engines and how a run picks one. `tfjs` differentiates with tfjs's tape on the
 * selected tfjs backend (./tfjs.ts); `ort` compiles the training step to ONNX and runs it on
 * onnxruntime-node (./ort). Both implement ./types.ts's `TrainingEngine`.
 *
 * `auto` picks `ort` for every family and model it can train, unless tfjs runs on a GPU
 * (tfjs-node-gpu); anything else falls back to tfjs. Why: on CPU the ort engine runs a whole step
 * (forward, gradients, Adam) in one native call with onnxruntime's MLAS kernels, while tfjs pays
 * per-op dispatch and, on its wasm backend (the one most installs get, as tfjs-node needs a
 * download at install time), slow transposed matmuls and convolution filter gradients:
 * docs/benchmarks.md, "Training", measures ort at 9-16x tfjs-wasm on the MLP and conv VAEs. On a
 * GPU, tfjs-node-gpu's CUDA kernels are the faster choice and the ort engine's CUDA provider is
 * not wired yet. tfjs-node (native CPU) could not be measured here (it cannot be installed
 * offline); ort is still picked over it, as it runs the step without tfjs's per-op round trips.
 * `auto` is the default of `train.engine` and of `--engine`; the start line says what it picked
 * and, for tfjs, why (an engine's `detail`).
 */
import type { BackendChoice } from '../../core/tfjs-backend';
import { OrtEngine } from './ort/engine';
import { ortFamilies, unsupportedFamily } from './ort/steps';
import { TfjsEngine } from './tfjs';
import type { EngineChoice, EngineName, EngineSetup, TrainingEngine } from './types';

export { ENGINE_CHOICES, ENGINE_NAMES } from './types';
export type { EngineChoice, EngineName, EngineSetup, HostBatch, StepOutcome, TrainingEngine } from './types';
export { ortFamilies } from './ort/steps';

/** Whether `--engine ort` trains a family (the layers of a custom architecture may still be refused). */
export function ortSupportsFamily(family: string): boolean {
  return ortFamilies().includes(family);
}

/**
 * Check, before a run folder is touched, that an explicitly chosen engine trains the family.
 *
 * @throws AekitError BAD_CONFIG for `ort` with a family it does not train
 */
export function assertEngineSupports(choice: EngineChoice, family: string): void {
  if (choice === 'ort' && !ortSupportsFamily(family)) throw unsupportedFamily(family);
}

/** The engine a run uses: the choice itself, or for 'auto' as described in this module's comment. */
export function resolveEngine(choice: EngineChoice, family: string, backend: BackendChoice): EngineName {
  assertEngineSupports(choice, family);
  if (choice !== 'auto') return choice;
  return autoPicksTfjs(family, backend) === undefined ? 'ort' : 'tfjs';
}

/** Why 'auto' trains `family` with tfjs on `backend` (for the start line); undefined when it picks ort. */
export function autoPicksTfjs(family: string, backend: BackendChoice): string | undefined {
  if (!ortSupportsFamily(family)) return `engine 'ort' has no step for family '${family}'`;
  if (backend.name === 'tfjs-node-gpu') return "tfjs-node-gpu trains on the GPU; engine 'ort' on CUDA is not wired yet";
  return undefined;
}

/**
 * Build the engine a run resolved to. With `fallback` (the 'auto' choice), a model whose layers
 * the ort engine cannot train falls back to tfjs with a log line instead of an error; the tfjs
 * engine's `detail` then says why. `detail` is the tfjs engine's otherwise (e.g. why 'auto'
 * picked it).
 */
export async function createEngine(name: EngineName, setup: EngineSetup, fallback = false, detail?: string): Promise<TrainingEngine> {
  if (name === 'tfjs') return new TfjsEngine(setup, detail);
  try {
    return await OrtEngine.create(setup);
  } catch (error) {
    if (!fallback || !(error instanceof Error && (error as { code?: string }).code === 'BAD_CONFIG')) throw error;
    setup.logger.info(`engine auto: ${error.message}; training with tfjs`);
    // The refusal ends with advice for an explicit --engine ort; 'auto' has already taken it.
    return new TfjsEngine(setup, error.message.replace(/; use --engine tfjs$/, ''));
  }
}
