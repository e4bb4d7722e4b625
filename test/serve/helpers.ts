/**
 * Shared by the serve tests: tiny trained artifacts (one MLP VAE, one CVAE, one AE, each trained
 * for one epoch on 300 MNIST images and exported with `exportRun`), an `aekit serve` child
 * process, HTTP helpers and onnxruntime-node reference runs.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
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
import { ERROR_STATUSES } from '../../src/serve/http-error';
import { BIN } from '../cli/cli-helpers';

/** Paths of the exported artifacts; `root` holds `<run>/{encoder,decoder}.onnx` for every run. */
export interface TestArtifacts {
  root: string;
  vae: { encoder: string; decoder: string };
  cvae: { encoder: string; decoder: string };
  ae: { encoder: string; decoder: string };
  /** The trained run folders, to export again (e.g. as a Triton repository). */
  runs: Record<'vae' | 'cvae' | 'ae', string>;
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
    const runs: Record<string, string> = {};
    for (const [name, model] of Object.entries(MODELS)) {
      const run = await train(
        { name, outDir: path.join(tmpRoot, 'runs'), model, data: { dataset: { name: 'mnist', limit: 300 } }, train: { epochs: 1, batchSize: 50, backend: 'wasm', seed: 1 } },
        {},
      );
      // verify: false; the export stage's own tests check parity, and it would double the time here.
      await exportRun(run.runDir, { out: path.join(root, name), verify: false });
      out[name] = { encoder: path.join(root, name, 'encoder.onnx'), decoder: path.join(root, name, 'decoder.onnx') };
      runs[name] = run.runDir;
    }
    return { root, ...out, runs } as unknown as TestArtifacts;
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

/**
 * A latent of float32-max entries that the 5-d AE test decoder turns into NaN (inf - inf), found
 * with onnxruntime itself: finite input, non-finite output, whichever sign pattern does it.
 */
export async function overflowingLatent(decoder: string): Promise<number[]> {
  const huge = 3.4e38;
  for (let mask = 0; mask < 32; mask++) {
    const z = Array.from({ length: 5 }, (_, i) => ((mask >> i) & 1 ? -huge : huge));
    const out = (await ortReference(decoder, { z: { data: Float32Array.from(z), dims: [1, 5] } })).image;
    if (out.some((v) => !Number.isFinite(v))) return z;
  }
  throw new Error(`no sign pattern of float32-max latents overflows ${decoder}`);
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

/** One HTTP/1.1 response read off a socket. */
export interface RawResponse {
  status: number;
  /** Header names in lower case; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Every response in `raw` (1xx interim answers left out): Content-Length or chunked framing, or
 * the rest of the stream. `method` HEAD: the bodies are empty whatever Content-Length says.
 * @throws Error when the bytes are not HTTP/1.1 responses.
 */
export function parseResponses(raw: Buffer, method = 'GET'): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end < 0) throw new Error(`an incomplete response head: ${JSON.stringify(raw.subarray(at, at + 200).toString('latin1'))}`);
    const [statusLine, ...lines] = raw.subarray(at, end).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
    if (!match) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(match[1]);
    at = end + 4;
    if (status < 200) continue;
    let body: Buffer;
    if (method === 'HEAD' || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (at + length > raw.length) throw new Error(`a body cut short: ${raw.length - at} of ${length} bytes`);
      body = raw.subarray(at, at + length);
      at += length;
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunks: Buffer[] = [];
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', at);
        if (lineEnd < 0) throw new Error('a chunked body cut short');
        const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
        at = lineEnd + 2;
        if (size === 0) {
          at = raw.indexOf('\r\n', at) + 2;
          break;
        }
        chunks.push(raw.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(chunks);
    } else {
      body = raw.subarray(at);
      at = raw.length;
    }
    out.push({ status, headers, body });
  }
  return out;
}

/** What came back on a raw connection: the bytes, how it ended, and when (ms after connecting). */
export interface RawExchange {
  raw: Buffer;
  /** 'closed' (FIN), a socket error code such as ECONNRESET, or 'timeout' (the test gave up). */
  ended: string;
  ms: number;
}

/**
 * Connect to `url`'s host and port, let `talk` write (now or later), and collect everything until
 * the server closes, the socket fails, or `timeoutMs` passes.
 */
export function rawConnection(url: string, talk: (socket: net.Socket) => void, timeoutMs = 10_000): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), hostname, () => talk(socket));
    const done = (ended: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks), ended, ms: Date.now() - started });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.on('close', () => done('closed'));
  });
}

/**
 * Check the JSON error shape of an error response: status repeated, a code that goes with it, a
 * message. Under /v2 the body is the v2 protocol's `{"error": "<message>"}` alone, with the code in
 * the X-Aekit-Error-Code header: that shape is checked too, and `dialect` says which one came.
 */
export function assertErrorShape(res: { status: number; headers: Record<string, string> | Headers; body: Buffer }, where = ''): { status: number; code: string; message: string; where?: string; dialect: 'aekit' | 'v2' } {
  const header = (name: string) => (res.headers instanceof Headers ? res.headers.get(name) : res.headers[name]) ?? undefined;
  const type = header('content-type');
  if (!/^application\/json/.test(type ?? '')) throw new Error(`${where}: ${res.status} answered with Content-Type ${type}: ${res.body.toString('utf8').slice(0, 200)}`);
  const parsed = JSON.parse(res.body.toString('utf8')) as { error: { status: number; code: keyof typeof ERROR_STATUSES; message: string; where?: string } | string };
  if (typeof parsed.error === 'string') {
    if (Object.keys(parsed).length !== 1) throw new Error(`${where}: a v2 error body has only 'error', got ${Object.keys(parsed).join(', ')}`);
    const code = header('x-aekit-error-code') as keyof typeof ERROR_STATUSES | undefined;
    const codeStatuses: readonly number[] | undefined = code === undefined ? undefined : ERROR_STATUSES[code];
    if (!codeStatuses?.includes(res.status)) throw new Error(`${where}: X-Aekit-Error-Code ${code} does not go with status ${res.status}`);
    if (parsed.error.length === 0) throw new Error(`${where}: no message`);
    return { status: res.status, code: code!, message: parsed.error, dialect: 'v2' };
  }
  const { error } = parsed;
  if (error.status !== res.status) throw new Error(`${where}: body status ${error.status} on a ${res.status}`);
  const statuses: readonly number[] | undefined = ERROR_STATUSES[error.code];
  if (!statuses?.includes(res.status)) throw new Error(`${where}: code ${error.code} does not go with status ${res.status}`);
  if (typeof error.message !== 'string' || error.message.length === 0) throw new Error(`${where}: no message`);
  return { ...error, dialect: 'aekit' };
}

/** A request sent with node:http (unlike fetch, it may set Host, leave it out or repeat it, and send Expect). */
export interface NodeRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Send a Host header for the server's address (default true; set `headers.host` to send another). */
  setHost?: boolean;
}

/** Send `req` with node:http on a fresh connection (`Connection: close`) and read the answer. */
export function nodeRequest(url: string, req: NodeRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { connection: 'close', ...req.headers };
    // node:http frames a GET or HEAD body with nothing unless told its length.
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const outgoing = http.request({ host: hostname, port: Number(port), method: req.method ?? 'GET', path: req.path, headers, setHost: req.setHost ?? !('host' in headers), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) flat[name] = Array.isArray(value) ? value.join(', ') : String(value);
        resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    outgoing.on('error', reject);
    const expectsContinue = /100-continue/i.test(String(headers.expect ?? headers.Expect ?? ''));
    if (expectsContinue) outgoing.on('continue', () => outgoing.end(req.body));
    else outgoing.end(req.body);
  });
}
