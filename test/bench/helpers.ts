/**
 * Shared by the bench tests: one tiny trained MLP VAE (one epoch on 300 MNIST images, ~1 s) with
 * its decoder exported next to the run (runs/<id>/onnx/decoder.onnx, so the benchmark finds the
 * tfjs model from the artifact's runId), and a deliberately altered copy of that decoder.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { decodeModel } from '../../src/artifact/onnx-io';
import { float32Data } from '../../src/export/onnx-graph';
import { encodeModel } from '../../src/artifact/onnx-io';
import { exportRun } from '../../src/export/run-export';
import { train } from '../../src/train/trainer';

/** The fixture's paths. */
export interface BenchFixture {
  runDir: string;
  decoder: string;
  /** The decoder with {@link ALTERATION} added to its output layer's biases: still runs, wrong output. */
  altered: string;
}

/** What the altered artifact adds to the output layer's biases (before its sigmoid): far above the 1e-3 agreement bound. */
export const ALTERATION = 0.5;

/** Layer sizes of the fixture's decoder, for FLOP checks: z(4) -> 32 relu -> 784 sigmoid. */
export const FIXTURE_DECODER = Object.freeze({ latent: 4, hidden: 32, pixels: 28 * 28 });

let built: Promise<BenchFixture> | undefined;
let tmpRoot: string | undefined;

/** Train and export the fixture once per mocha process. */
export function benchFixture(): Promise<BenchFixture> {
  built ??= (async () => {
    tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'aekit-bench-test-'));
    const result = await train(
      {
        name: 'bench-vae',
        outDir: path.join(tmpRoot, 'runs'),
        model: { family: 'vae', architecture: 'mlp', hiddenSizes: [FIXTURE_DECODER.hidden], latentSize: FIXTURE_DECODER.latent },
        data: { dataset: { name: 'mnist', limit: 300 } },
        train: { epochs: 1, batchSize: 50, backend: 'wasm', seed: 3 },
      },
      {},
    );
    const onnxDir = path.join(result.runDir, 'onnx');
    // verify: false; the export stage's tests check parity, and the benchmark measures it again here.
    await exportRun(result.runDir, { out: onnxDir, parts: ['decoder'], verify: false });
    const decoder = path.join(onnxDir, 'decoder.onnx');
    const altered = path.join(onnxDir, 'decoder-altered.onnx');
    writeFileSync(altered, alterLastGemmBias(readFileSync(decoder), ALTERATION));
    return { runDir: result.runDir, decoder, altered };
  })();
  return built;
}

/** Add `delta` to every bias of the last Gemm (the output layer): same graph and metadata, shifted output. */
function alterLastGemmBias(bytes: Uint8Array, delta: number): Uint8Array {
  const model = decodeModel(bytes, 'fixture decoder');
  const graph = model.graph as onnx.GraphProto;
  const gemm = (graph.node as onnx.NodeProto[]).filter((n) => n.opType === 'Gemm' && n.input.length === 3).pop();
  if (!gemm) throw new Error('the fixture decoder has no Gemm node with a bias');
  const bias = graph.initializer.find((t) => t.name === gemm.input[2]);
  if (!bias) throw new Error(`no initializer '${gemm.input[2]}'`);
  const values = float32Data(bias).map((v) => v + delta);
  bias.rawData = new Uint8Array(values.buffer);
  bias.floatData = [];
  return encodeModel(model);
}

process.on('exit', () => {
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});
