/**
 * The benchmark's seeded inputs: for aekit artifacts each input's role (label, image, latent code)
 * comes from the artifact's description; files from other tools (no aekit metadata) still get
 * inputs, told apart by rank.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeModel, encodeModel } from '../../src/artifact/onnx-io';
import type { TypedHostTensor } from '../../src/artifact/runtime';
import { numericOutput } from '../../src/bench/dtypes';
import { benchInputs, describeBenchArtifact } from '../../src/bench/inputs';
import { trainedEncoder } from '../eval/latent/helpers';
import type { Artifacts } from '../eval/latent/helpers';

/** The same graph with its aekit metadata removed, as another tool would write it. */
function withoutMetadata(bytes: Uint8Array): Uint8Array {
  const model = decodeModel(bytes, 'artifact');
  model.metadataProps = [];
  return encodeModel(model);
}

/** A tensor's values as numbers, whatever its element type. */
const numbers = (t: TypedHostTensor): Float32Array | Float64Array => numericOutput(t).data;

/** Rows of a [rows, classes] one-hot tensor, each checked to hold a single 1. */
function oneHotRows(tensor: TypedHostTensor, classes: number): number[] {
  const data = numbers(tensor);
  const rows: number[] = [];
  for (let r = 0; r < data.length / classes; r++) {
    const row = Array.from(data.subarray(r * classes, (r + 1) * classes));
    assert.deepEqual([row.filter((v) => v === 1).length, row.filter((v) => v !== 0 && v !== 1).length], [1, 0], `row ${r}: ${row.join(',')}`);
    rows.push(row.indexOf(1));
  }
  return rows;
}

describe('bench: inputs from the artifact description', function () {
  this.timeout(120_000);
  let tmp: string;
  let cvae: Artifacts;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-inputs-'));
    cvae = await trainedEncoder(tmp, 'cvae', { family: 'cvae', architecture: 'mlp', hiddenSizes: [32], latentSize: 3 });
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('feeds a conditional decoder one-hot labels of its classes and N(0, 1) codes', async () => {
    const artifact = describeBenchArtifact(cvae.decoder, new Uint8Array(await fs.readFile(cvae.decoder)));
    const info = artifact.info!;
    assert.equal(info.part, 'decoder');
    const feeds = benchInputs(artifact, 64, 5);
    const label = feeds[info.label!.input];
    assert.deepEqual(label.dims, [64, info.label!.numClasses]);
    assert.ok(new Set(oneHotRows(label, info.label!.numClasses)).size > 1, 'the classes vary');
    const z = feeds[info.latentInput!.name];
    assert.deepEqual(z.dims, [64, 3]);
    assert.ok(Array.from(numbers(z)).some((v) => v < 0), 'codes are N(0, 1), not pixels');
    // Same seed, same bytes: every runtime gets identical inputs.
    assert.deepEqual(benchInputs(artifact, 64, 5)[info.latentInput!.name].data, z.data);
  });

  it('feeds an encoder images in its value range and labels', async () => {
    const artifact = describeBenchArtifact(cvae.encoder, new Uint8Array(await fs.readFile(cvae.encoder)));
    const info = artifact.info!;
    const feeds = benchInputs(artifact, 4, 0);
    const image = feeds[info.imageInput!];
    assert.deepEqual(image.dims, [4, 1, 28, 28]);
    assert.ok(Array.from(numbers(image)).every((v) => v >= 0 && v <= 1), 'unit value range');
    oneHotRows(feeds[info.label!.input], info.label!.numClasses);
  });

  it('still benchmarks files of other tools: rank-4 inputs are [0, 1] images, the rest N(0, 1)', async () => {
    const foreign = withoutMetadata(new Uint8Array(await fs.readFile(cvae.encoder)));
    const artifact = describeBenchArtifact('foreign.onnx', foreign);
    assert.equal(artifact.info, undefined);
    const feeds = benchInputs(artifact, 2, 0);
    const [image, other] = [artifact.inputs.find((i) => i.shape.length === 4)!, artifact.inputs.find((i) => i.shape.length !== 4)!];
    assert.ok(Array.from(numbers(feeds[image.name])).every((v) => v >= 0 && v <= 1));
    // Without a description the label input is not known to be one: it gets N(0, 1) values.
    assert.ok(Array.from(numbers(feeds[other.name])).some((v) => v < 0));
  });
});
