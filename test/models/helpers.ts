/**
 * Helpers of the family tests: small downsampled datasets written as real IDX files (so runs go
 * through the real trainer and loaders), short runs, and metrics.jsonl readers.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { z } from 'zod';
import { tf } from '../../src/core/tfjs-backend';
import { COLOR_SETS, loadMnist, resizeImage, tint } from '../../src/data';
import { exportRun } from '../../src/export/run-export';
import { familyNames, getFamily, registerFamily } from '../../src/models';
import type { FamilyModel, TrainingPhase } from '../../src/models';
import { loadCheckpoint } from '../../src/run/checkpoint';
import { RunFolder } from '../../src/run/run-folder';
import type { EpochRecord, StepRecord } from '../../src/run/run-folder';

function idxHeader(magic: number, dims: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return header;
}

/**
 * Write the first `count` bundled MNIST training images resized to `size` x `size` as an IDX pair
 * in `dir`; returns the dataset spec that loads it (14x14 or 8x8 keep family runs to seconds).
 */
export async function downsampledMnist(dir: string, size: number, count: number): Promise<{ name: 'idx'; images: string; labels: string }> {
  const full = loadMnist('train', { limit: count });
  const pixels = new Uint8Array(full.count * size * size);
  const row = full.height * full.width;
  for (let n = 0; n < full.count; n++) {
    const small = resizeImage(full.images.subarray(n * row, (n + 1) * row), full.height, full.width, 1, size, size);
    small.forEach((v, i) => (pixels[n * size * size + i] = Math.round(Math.min(1, Math.max(0, v)) * 255)));
  }
  const images = path.join(dir, `mnist-${size}-images-idx3-ubyte`);
  const labels = path.join(dir, `mnist-${size}-labels-idx1-ubyte`);
  await fs.writeFile(images, Buffer.concat([idxHeader(0x803, [full.count, size, size]), Buffer.from(pixels)]));
  await fs.writeFile(labels, Buffer.concat([idxHeader(0x801, [full.count]), Buffer.from(Uint8Array.from(full.labels))]));
  return { name: 'idx', images, labels };
}

/**
 * Write the first `count` bundled MNIST training images resized to `size` x `size` and tinted with
 * one colour of a coloured-MNIST palette each (as the `colored-mnist` dataset does at 28x28) as a
 * PNG folder (one subfolder per digit); returns the dataset spec that loads it. The tint draws use
 * `seed`, so two palettes with different seeds give unpaired domains.
 */
export async function tintedMnistFolder(
  dir: string,
  palette: keyof typeof COLOR_SETS,
  size: number,
  count: number,
  seed: number,
): Promise<{ name: 'folder'; path: string; height: number; width: number; channels: 3 }> {
  const mnist = loadMnist('train', { limit: count });
  const row = mnist.height * mnist.width;
  const small = new Float32Array(count * size * size);
  for (let n = 0; n < count; n++) small.set(resizeImage(mnist.images.subarray(n * row, (n + 1) * row), mnist.height, mnist.width, 1, size, size), n * size * size);
  const colors = COLOR_SETS[palette].map((c) => [c[0], c[1], c[2]] as [number, number, number]);
  const tinted = tint({ ...mnist, images: small, height: size, width: size }, { colors, seed });
  const root = path.join(dir, `mnist-${palette}-${size}`);
  for (let n = 0; n < count; n++) {
    const png = new PNG({ width: size, height: size });
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < 3; c++) png.data[4 * p + c] = Math.round(Math.min(1, Math.max(0, tinted.images[(n * size * size + p) * 3 + c])) * 255);
      png.data[4 * p + 3] = 255;
    }
    const file = path.join(root, String(tinted.labels[n]), `${String(n).padStart(5, '0')}.png`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, PNG.sync.write(png));
  }
  return { name: 'folder', path: root, height: size, width: size, channels: 3 };
}

/** Step and epoch records of a run. */
export async function runRecords(runDir: string): Promise<{ steps: StepRecord[]; epochs: EpochRecord[] }> {
  const records = await new RunFolder(runDir).readMetrics();
  return {
    steps: records.filter((r): r is StepRecord => r.kind === 'step'),
    epochs: records.filter((r): r is EpochRecord => r.kind === 'epoch'),
  };
}

/** Mean of a logged term over the first and the last `n` logged steps. */
export function firstAndLast(steps: StepRecord[], term: string, n = 5): [number, number] {
  const mean = (rs: StepRecord[]) => rs.reduce((s, r) => s + r.terms[term], 0) / rs.length;
  assert.ok(steps.length >= 2 * n, `need ${2 * n} logged steps, have ${steps.length}`);
  assert.ok(steps.every((r) => Number.isFinite(r.terms[term])), `term '${term}' missing or not finite`);
  return [mean(steps.slice(0, n)), mean(steps.slice(-n))];
}

/** Export every part of a run and check parity on both onnxruntime backends (exportRun verifies). */
export async function assertExportParity(runDir: string, out: string, parts: string[]): Promise<void> {
  const result = await exportRun(runDir, { out, force: true });
  assert.deepEqual(result.artifacts.map((a) => a.part).sort(), [...parts].sort());
  for (const artifact of result.artifacts) {
    assert.ok(artifact.verify, `${artifact.part} was not verified`);
    assert.deepEqual(artifact.verify.runtimes.map((r) => r.runtime).sort(), ['ort-node-cpu', 'ort-web-wasm']);
    assert.ok(artifact.verify.maxAbsDiff <= 1e-4, `${artifact.part}: max abs diff ${artifact.verify.maxAbsDiff}`);
  }
}

/** Every weight of every part of a checkpoint (a run folder or checkpoint folder), by part. */
export async function checkpointWeights(location: string): Promise<Record<string, Float32Array[]>> {
  const loaded = await loadCheckpoint(location);
  try {
    const out: Record<string, Float32Array[]> = {};
    for (const [part, model] of Object.entries(loaded.model.parts)) out[part] = model!.weights.map((w) => w.read().dataSync().slice() as Float32Array);
    return out;
  } finally {
    loaded.model.dispose();
  }
}

/** Fraction of a part's weight tensors that differ between two snapshots. */
export function changedFraction(a: Float32Array[], b: Float32Array[]): number {
  assert.equal(a.length, b.length);
  return a.filter((w, i) => w.some((v, j) => v !== b[i][j])).length / a.length;
}

/**
 * Register (once) a test double of a family: the real family, except that `phase`'s loss is NaN
 * at global step `atStep`, and `epochWarnings` adds 'probe warning'. A run config names the probe
 * (so the trainer builds it), but the model it builds carries the real family's config, so its
 * checkpoints load as the real family. Returns its registry name.
 */
export function registerNanProbe(base: string, phase: string, atStep: number): string {
  const name = `${base}-nan-probe-${phase}-${atStep}`;
  if (familyNames().includes(name)) return name;
  const family = getFamily(base);
  registerFamily({
    ...family,
    name,
    configSchema: z
      .preprocess((value) => ({ ...(value as object), family: base }), family.configSchema)
      .transform((config) => ({ ...config, family: name })) as unknown as typeof family.configSchema,
    build: (config, shape, seed) => {
      const model = family.build({ ...config, family: base }, shape, seed);
      const phases: TrainingPhase[] = model.phases.map((p) =>
        p.name !== phase
          ? p
          : {
              ...p,
              loss: (batch, ctx) => {
                const out = p.loss(batch, ctx);
                if (ctx.step !== atStep) return out;
                const total = tf.mul(out.total, Number.NaN) as tf.Scalar;
                return { total, terms: { ...out.terms, total } };
              },
            },
      );
      const realWarnings = model.epochWarnings?.bind(model);
      Object.assign(model, { phases, epochWarnings: (epoch: Parameters<NonNullable<FamilyModel['epochWarnings']>>[0]) => [...(realWarnings?.(epoch) ?? []), 'probe warning'] });
      return model;
    },
  });
  return name;
}

/**
 * Size and frame count of a GIF file, by walking its block structure (GIF89a spec: header, screen
 * descriptor and colour table, then extension blocks 0x21 and image blocks 0x2C, until 0x3B).
 */
export function gifFrames(bytes: Uint8Array): { width: number; height: number; frames: number } {
  assert.equal(Buffer.from(bytes.subarray(0, 6)).toString('latin1'), 'GIF89a');
  const width = bytes[6] | (bytes[7] << 8);
  const height = bytes[8] | (bytes[9] << 8);
  const colorTable = (flags: number) => (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  const skipSubBlocks = (at: number) => {
    while (bytes[at] !== 0) at += bytes[at] + 1;
    return at + 1;
  };
  let at = 13 + colorTable(bytes[10]);
  let frames = 0;
  while (bytes[at] !== 0x3b) {
    assert.ok(at < bytes.length, 'GIF ends without its trailer');
    if (bytes[at] === 0x21) {
      at = skipSubBlocks(at + 2);
    } else {
      assert.equal(bytes[at], 0x2c, `unexpected GIF block 0x${bytes[at].toString(16)} at ${at}`);
      frames += 1;
      at = skipSubBlocks(at + 10 + colorTable(bytes[at + 9]) + 1);
    }
  }
  return { width, height, frames };
}
