/**
 * Numerical agreement: every runtime's outputs held against onnxruntime-node's CPU provider (the
 * reference) on the same seeded inputs.
 */
import { compareClose } from '../core/allclose';
import type { Tolerance } from '../core/allclose';
import { AekitError } from '../core/errors';
import { openOrtSession } from '../artifact/runtime';
import type { TypedHostTensor } from '../artifact/runtime';
import { numericOutput } from './dtypes';
import type { BenchArtifact } from './inputs';
import { REFERENCE_RUNTIME } from './runtimes';
import { firstLine } from './worker';
import type { OutputTensor } from './worker';

/**
 * How far a runtime's outputs may be from the reference's before its row is flagged, by the
 * allclose rule `|out - ref| <= atol + rtol * |ref|` (src/core/allclose.ts). float32 runs of the
 * same graph differ by reassociation noise (~1e-6 on aekit models); 1e-3 is the agreement bound the
 * bench issue sets, wide enough for GPU kernels, tight enough to catch a wrong weight or layout. The
 * relative part keeps unbounded outputs (codes, logits of foreign models) from failing on rounding
 * that grows with their magnitude.
 */
export const AGREEMENT_TOLERANCE: Readonly<Tolerance> = Object.freeze({ rtol: 1e-3, atol: 1e-3 });

/** Agreement of a runtime's outputs with the reference at one batch size. */
export interface Agreement {
  /** Max |output - reference| over every output (Infinity, null in JSON, when not comparable). */
  maxAbsDiff: number;
  tolerance: Tolerance;
  /** Every element within `atol + rtol * |reference|`. */
  ok: boolean;
  /** Why the outputs could not be compared element by element (missing output, other shape). */
  note?: string;
}

/** Every output against the reference by the allclose rule; NaN counts as infinitely far. */
export function compareOutputs(got: Record<string, OutputTensor>, reference: Record<string, OutputTensor>, tolerance: Tolerance): Agreement {
  let worst = 0;
  let ok = true;
  const notes: string[] = [];
  for (const [name, want] of Object.entries(reference)) {
    const have = got[name];
    if (!have) {
      notes.push(`output '${name}' missing`);
      worst = Infinity;
      continue;
    }
    if (have.dims.join(',') !== want.dims.join(',')) {
      notes.push(`output '${name}' has shape [${have.dims.join(', ')}], reference [${want.dims.join(', ')}]`);
      worst = Infinity;
      continue;
    }
    const close = compareClose(have.data, want.data, tolerance);
    worst = Math.max(worst, close.maxAbsDiff);
    ok &&= close.ok;
  }
  return { maxAbsDiff: worst, tolerance, ok: ok && worst !== Infinity, ...(notes.length ? { note: notes.join('; ') } : {}) };
}

/** The reference outputs at every batch size it could run, and why it could not run the others. */
export interface ReferenceRun {
  outputs: Map<number, Record<string, OutputTensor>>;
  /** Batch sizes the reference runtime failed on, with its error (a model that fixes its batch inside, e.g. by a Reshape). */
  failed: Map<number, string>;
}

/**
 * The reference outputs (onnxruntime-node, CPU) at every batch size, computed in this process. A
 * batch size the reference cannot run is recorded in `failed`: no runtime is timed on it.
 * @throws AekitError BAD_DATA when the reference runtime cannot load the model, or runs it at no
 *   batch size at all.
 */
export async function referenceOutputs(artifact: BenchArtifact, feedsByBatch: Map<number, Record<string, TypedHostTensor>>): Promise<ReferenceRun> {
  let session;
  try {
    session = await openOrtSession('ort-node-cpu', artifact.bytes);
  } catch (error) {
    throw new AekitError('BAD_DATA', `the reference runtime ${REFERENCE_RUNTIME} cannot load the model: ${firstLine(error)}`, { where: artifact.path, cause: error });
  }
  try {
    const run: ReferenceRun = { outputs: new Map(), failed: new Map() };
    let firstError: unknown;
    for (const [batch, feeds] of feedsByBatch) {
      try {
        const results = await session.runTyped(feeds);
        run.outputs.set(batch, Object.fromEntries(results.map((r) => [r.name, numericOutput(r)])));
      } catch (error) {
        firstError ??= error;
        run.failed.set(batch, firstLine(error));
      }
    }
    if (run.outputs.size === 0) {
      throw new AekitError('BAD_DATA', `the reference runtime ${REFERENCE_RUNTIME} cannot run the model: ${firstLine(firstError)}`, { where: artifact.path, cause: firstError });
    }
    return run;
  } finally {
    await session.release();
  }
}
