/**
 * Shared by the serve tests: tiny trained artifacts (one MLP VAE, one CVAE, one AE, each trained
 * for one epoch on 300 MNIST images and exported with `exportRun`), an `aekit serve` child
 * process, HTTP helpers and onnxruntime-node reference runs.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, softwareVulkan } from '../../src/core/browser';
import type { SoftwareVulkan } from '../../src/core/browser';
import { isAekitError } from '../../src/core/errors';
import { exportRun } from '../../src/export/run-export';
import { runOnnx } from '../../src/artifact/runtime';
import type { RunConfigInput } from '../../src/run/config';
import { train } from '../../src/train/trainer';
import { BIN } from '../cli/cli-helpers';

/** Paths of the exported artifacts; `root` holds `<run>/{encoder,decoder}.onnx` for every run. */
export interface TestArtifacts {
  root: string;
  vae: { encoder: string; decoder: string };
  cvae: { encoder: string; decoder: string };
  ae: { encoder: string; decoder: string };
}

const MODELS: Record<'vae' | 'cvae' | 'ae', RunConfigInput['model']> = {
  vae: { family: 'vae', architecture: 'mlp', hiddenSizes: [32], latentSize: 4 },
  cvae: { family: 'cvae', architecture: 'mlp', hiddenSizes: [32], latentSize: 3 },
  ae: { family: 'ae', architecture: 'mlp', hiddenSizes: [32], latentSize: 5 },
};

let built: Promise<TestArtifacts> | undefined;
let tmpRoot: string | undefined;

/** Train and export the three tiny runs once per mocha process (~3 s). */
export function testArtifacts(): Promise<TestArtifacts> {
  built ??= (async () => {
    tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'aekit-serve-'));
    const root = path.join(tmpRoot, 'models');
    const out: Record<string, { encoder: string; decoder: string }> = {};
    for (const [name, model] of Object.entries(MODELS)) {
      const run = await train(
        { name, outDir: path.join(tmpRoot, 'runs'), model, data: { dataset: { name: 'mnist', limit: 300 } }, train: { epochs: 1, batchSize: 50, backend: 'wasm', seed: 1 } },
        {},
      );
      // verify: false; the export stage's own tests check parity, and it would double the time here.
      await exportRun(run.runDir, { out: path.join(root, name), verify: false });
      out[name] = { encoder: path.join(root, name, 'encoder.onnx'), decoder: path.join(root, name, 'decoder.onnx') };
    }
    return { root, ...out } as unknown as TestArtifacts;
  })();
  return built;
}

process.on('exit', () => {
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});

/** onnxruntime-node (CPU EP) outputs of an artifact, by output name. */
export async function ortReference(file: string, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, Float32Array>> {
  const hostFeeds = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { dtype: 'float32' as const, data: v.data, dims: v.dims }]));
  const outputs = await runOnnx('ort-node-cpu', readFileSync(file), hostFeeds);
  return Object.fromEntries(outputs.map((o) => [o.name, o.data]));
}

/** One-hot rows for labels. */
export function oneHot(labels: number[], classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => (out[i * classes + l] = 1));
  return out;
}

/** Largest |a - b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** A fetched response with its body read both ways. */
export interface Fetched {
  status: number;
  headers: Headers;
  bytes: Buffer;
  json: any;
}

/** fetch + read the body; `body` objects are sent as JSON. */
export async function request(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Fetched> {
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const headers = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers };
  const res = await fetch(url, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), body, headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) json = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, headers: res.headers, bytes, json };
}

/** Float32 values of a raw little-endian body. */
export function float32(bytes: Buffer): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** A running `aekit serve` child process. */
export interface ServeProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Start the built CLI's `aekit serve` on an ephemeral port and wait for its "listening on" line. */
export async function startServeCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<ServeProcess> {
  if (!existsSync(path.join(path.dirname(BIN), '..', 'dist', 'cli', 'commands', 'serve.js'))) {
    throw new Error('dist/cli/commands/serve.js is missing: run `npm run build` before the serve CLI tests');
  }
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`aekit serve did not start within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
    const check = () => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`aekit serve exited with ${code} before listening; stderr:\n${stderr}`));
    });
  });
  return { url, child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Stop a child started by {@link startServeCli} (SIGKILL after a grace period), for after-hooks. */
export async function stopServeCli(proc: ServeProcess | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await proc.exited;
  clearTimeout(timer);
}

let announced = false;

/**
 * Start the headless Chromium of the browser tests, found by src/core/browser.ts (AEKIT_CHROMIUM,
 * else a system one, else the one bundled in @sparticuz/chromium), and say once per process which
 * one it is. 'webgpu' gives a GPU process with WebGPU (SwiftShader's adapter without a GPU); 'off'
 * none (wasm pages). A missing browser fails the test with the reason, never skips it.
 */
export async function launchTestChromium(gpu: 'webgpu' | 'off'): Promise<Browser> {
  const { browser, chromium } = await launchChromium({ gpu });
  if (!announced) {
    announced = true;
    process.stderr.write(`      (browser: ${chromium.description})\n`);
  }
  return browser;
}

/**
 * The environment that runs onnxruntime-node's WebGPU provider on SwiftShader in a child process
 * (src/core/browser.ts's softwareVulkan); without a Vulkan loader, skips the test with the reason.
 */
export async function softwareVulkanOrSkip(test: Mocha.Context): Promise<SoftwareVulkan> {
  try {
    return await softwareVulkan();
  } catch (error) {
    if (!isAekitError(error)) throw error;
    console.log(`      skipped: no Vulkan loader for onnxruntime-node's WebGPU provider: ${error.message}`);
    return test.skip();
  }
}
