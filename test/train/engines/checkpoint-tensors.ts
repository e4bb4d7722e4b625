/** A run's latest checkpoint read back tensor by tensor (the engine tests compare them). */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

interface Manifest {
  parts: Record<string, { name: string; shape: number[]; offset: number }[]>;
  optimizers: { phase: string; step: number; moments: { m: { name: string; shape: number[]; offset: number }; v: { name: string; shape: number[]; offset: number } }[] }[];
}

/** Every tensor of a run's latest checkpoint (weights by part/name, moments by phase/m|v/index). */
export async function checkpointTensors(runDir: string): Promise<{ tensors: Map<string, Float32Array>; steps: number[] }> {
  const latest = JSON.parse(await fs.readFile(path.join(runDir, 'checkpoints', 'latest.json'), 'utf8')) as { checkpoint: string };
  const dir = path.join(runDir, 'checkpoints', latest.checkpoint);
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8')) as Manifest;
  const raw = await fs.readFile(path.join(dir, 'tensors.bin'));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const tensors = new Map<string, Float32Array>();
  const read = (e: { shape: number[]; offset: number }) => all.subarray(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1));
  for (const [part, entries] of Object.entries(manifest.parts)) entries.forEach((e, i) => tensors.set(`${part}/${i}:${e.name}`, read(e)));
  for (const opt of manifest.optimizers) opt.moments.forEach((mv, i) => {
    tensors.set(`${opt.phase}/m/${i}`, read(mv.m));
    tensors.set(`${opt.phase}/v/${i}`, read(mv.v));
  });
  return { tensors, steps: manifest.optimizers.map((o) => o.step) };
}
