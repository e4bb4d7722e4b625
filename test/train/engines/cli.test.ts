/**
 * `aekit train --engine`: the built CLI trains with the ort engine and records it, `auto` picks it,
 * and an unknown engine gets one clear line. Needs `npm run build` first.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/cli-helpers';
import { softwareVulkanOrSkip } from '../../serve/helpers';
import { relativeDifference } from './helpers';

describe('cli: aekit train --engine', function () {
  this.timeout(120_000);
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cli-engine-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('--engine ort trains and records the engine in the run folder', async () => {
    const args = ['train', '--model', 'vae', '--architecture', 'mlp', '--latent', '2', '--dataset', 'mnist', '--limit', '200', '--epochs', '1'];
    const { code, stdout, stderr } = await runCli([...args, '--batch-size', '50', '--engine', 'ort', '--name', 'ort', '--out-dir', dir, '--set', 'model.hiddenSizes=[8]']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /finished 1 epochs/);
    const info = JSON.parse(await fs.readFile(path.join(dir, 'ort', 'run.json'), 'utf8'));
    assert.equal(info.engine, 'ort');
    assert.match(stderr, /engine: ort/);
  });

  it('@slow --engine ort on onnxruntime-node\'s WebGPU provider (SwiftShader): two steps agree with the CPU provider', async function () {
    // The WebGPU provider runs Adam inside the graph (the CPU provider runs it in a host arena): two
    // steps of a conv VAE on both must give the same weights and Adam moments. The Vulkan driver is
    // SwiftShader from the bundled Chromium (src/core/browser.ts), given to the child CLI.
    const args = ['train', '--model', 'vae', '--architecture', 'conv', '--latent', '4', '--dataset', 'mnist', '--limit', '64', '--epochs', '1'];
    const settings = ['--batch-size', '16', '--steps-per-epoch', '2', '--engine', 'ort', '--out-dir', dir, '--set', 'model.convChannels=[4,8]'];
    const { env } = await softwareVulkanOrSkip(this);
    const runs: Record<string, Float32Array> = {};
    for (const runtime of ['ort-node-cpu', 'ort-node-webgpu']) {
      const { code, stderr } = await runCli([...args, ...settings, '--name', `rt-${runtime}`, '--set', `train.ortRuntime="${runtime}"`], { env });
      assert.equal(code, 0, stderr);
      assert.match(stderr, new RegExp(`engine: ort \\(${runtime}, Adam in the ${runtime === 'ort-node-cpu' ? 'host arena' : 'graph'}`));
      const checkpoint = path.join(dir, `rt-${runtime}`, 'checkpoints', 'epoch-0001');
      const raw = await fs.readFile(path.join(checkpoint, 'tensors.bin'));
      runs[runtime] = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    }
    const [cpu, webgpu] = [runs['ort-node-cpu'], runs['ort-node-webgpu']];
    assert.equal(webgpu.length, cpu.length);
    const difference = relativeDifference(webgpu, cpu);
    assert.ok(difference <= 1e-4, `relative difference of every saved tensor ${difference}`);
  });

  it('--engine auto picks ort for a family it trains; an unknown engine is one clear line', async () => {
    const args = ['train', '--model', 'ae', '--architecture', 'mlp', '--latent', '2', '--dataset', 'mnist', '--limit', '100', '--epochs', '1', '--batch-size', '50'];
    const auto = await runCli([...args, '--engine', 'auto', '--name', 'auto', '--out-dir', dir, '--set', 'model.hiddenSizes=[8]']);
    assert.equal(auto.code, 0, auto.stderr);
    // The start line says what 'auto' picked (before: "engine: ort").
    assert.match(auto.stderr, /engine: auto -> ort \(ort-node-cpu/);
    const unknown = await runCli([...args, '--engine', 'torch', '--name', 'unknown', '--out-dir', dir]);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /--engine.*torch.*(tfjs, ort, auto|choices)/i);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /, 'no stack trace');
  });
});
