/**
 * An aekit artifact as the eval stage uses it: one session (opened through src/export/runtimes.ts,
 * the one file that loads onnxruntime) that runs any number of rows in large batches, with the
 * artifact's metadata at hand.
 */
import { promises as fs } from 'node:fs';
import { AekitError } from '../core/errors';
import { artifactInfo, readMetadata } from '../artifact/onnx-io';
import type { ArtifactInfo } from '../artifact/info';
import type { ArtifactMetadata, TensorSpec } from '../artifact/metadata';
import { openOrtSession } from '../artifact/runtime';
import type { HostTensor, OrtSessionHandle, OrtSessionRuntime } from '../artifact/runtime';

/**
 * Rows per `session.run` call. Large batches amortise onnxruntime's per-call overhead and let its
 * GEMMs use both cores: `npm run bench:fid` (10,000 images through the quickstart decoder and the
 * FID classifier, 2 cores at load ~5) took 1.6 s end to end at batch 1000, 3.7 s at 100 and 5.9 s
 * at 2500, where the activations of a conv net grow past 100 MB per call.
 */
export const DEFAULT_EVAL_BATCH = 1000;

/** The runtime eval runs on unless told otherwise. */
export const DEFAULT_EVAL_RUNTIME: OrtSessionRuntime = 'ort-node-cpu';

/** A float32 tensor fed to or read from an artifact (NCHW for images, batch first). */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** Options of {@link OnnxModel.load}. */
export interface OnnxModelOptions {
  /** Rows per run call (default {@link DEFAULT_EVAL_BATCH}). */
  batchSize?: number;
  /** onnxruntime intra-op threads (default: onnxruntime-node's own, one per physical core). */
  threads?: number;
  /** Runtime (default {@link DEFAULT_EVAL_RUNTIME}). */
  runtime?: OrtSessionRuntime;
}

/** Called after each batch of a long run: rows done so far of `total`. */
export type RowProgress = (done: number, total: number) => void;

/** An aekit artifact loaded once, with its metadata. */
export class OnnxModel {
  private constructor(
    /** The `.onnx` file. */
    readonly path: string,
    /** The artifact's aekit metadata. */
    readonly metadata: ArtifactMetadata,
    /** What the artifact is (the artifact layer's one description of it). */
    readonly info: ArtifactInfo,
    private readonly session: OrtSessionHandle,
    /** Rows per run call. */
    readonly batchSize: number,
  ) {}

  /**
   * Load an artifact: reads and validates its metadata, then opens one session for all later runs.
   * @throws AekitError FILE_NOT_FOUND / BAD_DATA for an unreadable file, bad metadata or a model
   *   onnxruntime cannot load; BACKEND_UNAVAILABLE for a GPU runtime that cannot start.
   */
  static async load(file: string, options: OnnxModelOptions = {}): Promise<OnnxModel> {
    const metadata = readMetadata(file);
    artifactInfo(metadata, file); // a self-contradicting artifact fails here, before a session opens
    const batchSize = options.batchSize ?? DEFAULT_EVAL_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new AekitError('BAD_ARGUMENT', `expected a batch size >= 1, found ${batchSize}`, { where: 'batchSize' });
    }
    const bytes = await fs.readFile(file);
    let session: OrtSessionHandle;
    try {
      session = await openOrtSession(options.runtime ?? DEFAULT_EVAL_RUNTIME, bytes, { threads: options.threads });
    } catch (error) {
      if (error instanceof AekitError) throw new AekitError(error.code, error.message, { where: file, cause: error });
      throw error;
    }
    return new OnnxModel(file, metadata, artifactInfo(metadata, file), session, batchSize);
  }

  /** The metadata spec of an input, or an error naming the file and the inputs it has. */
  input(name: string): TensorSpec {
    return findSpec(this.metadata.inputs, name, 'input', this.path);
  }

  /** The metadata spec of an output, or an error naming the file and the outputs it has. */
  output(name: string): TensorSpec {
    return findSpec(this.metadata.outputs, name, 'output', this.path);
  }

  /** True when the artifact has an output of this name. */
  hasOutput(name: string): boolean {
    return this.metadata.outputs.some((o) => o.name === name);
  }

  /**
   * Run the model on any number of rows: the feeds (all with the same first dimension) are cut into
   * batches of {@link batchSize} rows without copying, and each requested output is gathered into
   * one array of `rows` × (its row size).
   *
   * @param feeds - One tensor per model input, batch first.
   * @param outputs - Output names to return (default: all).
   * @param progress - Called after each batch.
   * @throws AekitError BAD_ARGUMENT for mismatched feeds, EVAL_FAILED when onnxruntime fails.
   */
  async run(
    feeds: Record<string, FloatTensor>,
    outputs: readonly string[] = this.metadata.outputs.map((o) => o.name),
    progress?: RowProgress,
  ): Promise<Record<string, FloatTensor>> {
    const entries = Object.entries(feeds);
    if (entries.length === 0) throw new AekitError('BAD_ARGUMENT', 'expected at least one feed', { where: this.path });
    const rows = entries[0][1].dims[0];
    for (const [name, t] of entries) {
      const rowSize = t.dims.slice(1).reduce((a, b) => a * b, 1);
      if (t.dims[0] !== rows || t.data.length !== rows * rowSize) {
        throw new AekitError('BAD_ARGUMENT', `feed '${name}' has dims [${t.dims.join(', ')}] and ${t.data.length} values; expected ${rows} rows like '${entries[0][0]}'`, {
          where: this.path,
        });
      }
    }
    for (const name of outputs) this.output(name);

    const gathered: Record<string, FloatTensor> = {};
    for (let start = 0; start < rows; start += this.batchSize) {
      const size = Math.min(this.batchSize, rows - start);
      const batch: Record<string, HostTensor> = {};
      for (const [name, t] of entries) {
        const rowSize = t.data.length / rows;
        batch[name] = { dtype: 'float32', data: t.data.subarray(start * rowSize, (start + size) * rowSize), dims: [size, ...t.dims.slice(1)] };
      }
      let results: { name: string; data: Float32Array; dims: number[] }[];
      try {
        results = await this.session.run(batch);
      } catch (error) {
        throw new AekitError('EVAL_FAILED', `${this.session.runtime} failed on rows ${start}-${start + size - 1}: ${(error as Error).message}`, {
          where: this.path,
          cause: error,
        });
      }
      for (const name of outputs) {
        const r = results.find((o) => o.name === name);
        if (!r) throw new AekitError('EVAL_FAILED', `the session returned no output '${name}'`, { where: this.path });
        const rowSize = r.data.length / size;
        gathered[name] ??= { data: new Float32Array(rows * rowSize), dims: [rows, ...r.dims.slice(1)] };
        gathered[name].data.set(r.data, start * rowSize);
      }
      progress?.(start + size, rows);
    }
    return gathered;
  }

  /** Free the session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

function findSpec(specs: TensorSpec[], name: string, kind: string, where: string): TensorSpec {
  const spec = specs.find((s) => s.name === name);
  if (!spec) {
    throw new AekitError('BAD_DATA', `expected an ${kind} named '${name}', found: ${specs.map((s) => s.name).join(', ')}`, {
      where: `${where}: aekit.${kind}s`,
    });
  }
  return spec;
}
