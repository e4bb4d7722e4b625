/**
 * The server's sessions on onnxruntime-node, opened through src/export/runtimes.ts (the one file
 * that loads onnxruntime): resolves the user-facing execution provider name, falls back to the CPU
 * (or refuses, when strict) with the reason when the requested provider cannot start, and checks
 * that a non-CPU provider computes the same numbers as the CPU before trusting it.
 */
import { SOFTWARE_VULKAN_HINT } from '../core/browser';
import { compareClose } from '../core/allclose';
import type { Tolerance } from '../core/allclose';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { checkNodeExecutionProvider, NODE_EXECUTION_PROVIDERS, openOrtSession } from '../artifact/runtime';
import type { HostTensor, NodeExecutionProvider, OrtSessionHandle } from '../artifact/runtime';
import { normalSamples } from '../artifact/prior';

/** User-facing execution provider names -> onnxruntime runtimes (the table lives in src/export/runtimes.ts). */
export const EXECUTION_PROVIDERS = NODE_EXECUTION_PROVIDERS;
/** See {@link EXECUTION_PROVIDERS}. */
export type ExecutionProviderName = NodeExecutionProvider;

/** Check a provider name, with an error listing the valid ones. */
export const checkExecutionProvider: (name: string) => ExecutionProviderName = checkNodeExecutionProvider;

/**
 * How far a non-CPU provider's outputs may be from the CPU provider's on the start-up probe, by
 * the allclose rule `|out - cpu| <= atol + rtol * |cpu|` (src/core/allclose.ts). The WebGPU EP
 * computes in float32 like the CPU EP, with a different summation order (measured 1.7e-6 on an MLP
 * VAE decoder, SwiftShader adapter); 1e-3 is the parity tolerance the serving issue asks for, and
 * the relative part keeps an encoder's unbounded codes from failing on rounding of their magnitude.
 */
export const EP_PARITY_TOLERANCE: Readonly<Tolerance> = Object.freeze({ rtol: 1e-3, atol: 1e-3 });

/** Rows in the start-up parity probe. */
const PROBE_ROWS = 2;
/** Seed of the probe inputs (any fixed value: the probe must be the same on every start). */
const PROBE_SEED = 20240601;

/** What the server runs on; reported by /healthz. */
export interface ExecutionProviderReport {
  requested: ExecutionProviderName;
  active: ExecutionProviderName;
  /** Why the requested provider is not the active one. */
  fallbackReason?: string;
  /** Worst difference from the CPU provider over every artifact's probe (non-CPU providers only). */
  parity?: { against: 'cpu'; maxAbsDiff: number; tolerance: Tolerance };
  /** The Vulkan driver the WebGPU EP was pointed at (`VK_ICD_FILENAMES`), when set. */
  vulkanIcd?: string;
  /** Version of the onnxruntime package the sessions run on. */
  onnxruntime: string;
}

/** A float32 input: row-major data with its full shape (batch first). */
export interface FloatFeed {
  data: Float32Array;
  dims: number[];
}

/** An open session that runs float32 feeds and returns float32 outputs by name. */
export interface NodeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, FloatFeed>): Promise<Record<string, FloatFeed>>;
  release(): Promise<void>;
}

/** Options of {@link NodeRuntime.start}. */
export interface RuntimeOptions {
  executionProvider: ExecutionProviderName;
  /** Refuse to start instead of falling back to the CPU. */
  strict: boolean;
  /** onnxruntime intra-op threads per session. */
  intraOpNumThreads: number;
  logger: Logger;
}

/** An artifact to open: its bytes and how to build probe inputs (name -> per-row shape). */
export interface ArtifactToOpen {
  where: string;
  bytes: Uint8Array;
  /** Per-row input shapes (without the batch dimension), by input name. */
  inputShapes: Record<string, number[]>;
}

/** The user's next step when a provider cannot start, by provider. */
function hint(ep: ExecutionProviderName, message: string): string {
  if (ep === 'cuda') {
    return "onnxruntime-node's CUDA EP is not bundled in the npm package; it needs CUDA 12 + cuDNN 9 and `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12`";
  }
  if (ep === 'webgpu' && /adapter/i.test(message)) {
    return `no WebGPU adapter (no GPU with a Vulkan driver); ${SOFTWARE_VULKAN_HINT}`;
  }
  return '';
}

/** First line of an onnxruntime error (its messages carry long source paths). */
function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n').find((l) => l.trim() !== '') ?? message;
  // Assertion failures read '<source path> <function> <condition> was false. <what happened>'.
  const afterAssert = line.lastIndexOf(' was false. ');
  const cleaned = afterAssert >= 0 ? line.slice(afterAssert + ' was false. '.length) : line;
  return cleaned.replace(/^.*\[ONNXRuntimeError\][^:]*:\s*/, '').replace(/^\/onnxruntime_src\/\S+\s+/, '').trim();
}

function wrapSession(handle: OrtSessionHandle): NodeSession {
  return {
    inputNames: handle.inputNames,
    outputNames: handle.outputNames,
    async run(feeds) {
      const hostFeeds: Record<string, HostTensor> = {};
      for (const [name, feed] of Object.entries(feeds)) hostFeeds[name] = { dtype: 'float32', data: feed.data, dims: feed.dims };
      const out: Record<string, FloatFeed> = {};
      for (const output of await handle.run(hostFeeds)) out[output.name] = { data: output.data, dims: output.dims };
      return out;
    },
    release: () => handle.release(),
  };
}

function probeFeeds(artifact: ArtifactToOpen): Record<string, FloatFeed> {
  const feeds: Record<string, FloatFeed> = {};
  let salt = 0;
  for (const [name, shape] of Object.entries(artifact.inputShapes)) {
    const size = shape.reduce((a, b) => a * b, 1);
    feeds[name] = { data: normalSamples(PROBE_ROWS * size, PROBE_SEED + salt++), dims: [PROBE_ROWS, ...shape] };
  }
  return feeds;
}

/** Every output of `a` against `b` (the CPU provider's) by the allclose rule; NaN is infinitely far. */
function closeTo(a: Record<string, FloatFeed>, b: Record<string, FloatFeed>): { ok: boolean; maxAbsDiff: number } {
  let ok = true;
  let worst = 0;
  for (const [name, feed] of Object.entries(a)) {
    const close = compareClose(feed.data, b[name].data, EP_PARITY_TOLERANCE);
    ok &&= close.ok;
    worst = Math.max(worst, close.maxAbsDiff);
  }
  return { ok, maxAbsDiff: worst };
}

/** onnxruntime-node sessions on one resolved execution provider. */
export class NodeRuntime {
  private constructor(
    readonly report: ExecutionProviderReport,
    private readonly options: RuntimeOptions,
  ) {}

  /** Open a session for an artifact on the active provider. */
  async open(artifact: ArtifactToOpen): Promise<NodeSession> {
    return wrapSession(await openSession(artifact, this.report.active, this.options));
  }

  /**
   * Resolve the execution provider for a set of artifacts: open each on the requested provider,
   * compare its probe outputs with the CPU's, and fall back to the CPU (or throw, when strict)
   * with the reason if any of that fails. Returns the runtime and the opened sessions.
   *
   * @throws AekitError BACKEND_UNAVAILABLE when strict and the provider cannot be used.
   */
  static async start(artifacts: ArtifactToOpen[], options: RuntimeOptions): Promise<{ runtime: NodeRuntime; sessions: NodeSession[] }> {
    const requested = options.executionProvider;
    const vulkanIcd = process.env.VK_ICD_FILENAMES && requested === 'webgpu' ? { vulkanIcd: process.env.VK_ICD_FILENAMES } : {};
    const report = (fields: Pick<ExecutionProviderReport, 'active' | 'fallbackReason' | 'parity'>, sessions: OrtSessionHandle[]): ExecutionProviderReport => ({
      requested,
      ...fields,
      ...vulkanIcd,
      onnxruntime: sessions[0]?.version ?? 'unknown',
    });
    if (requested !== 'cpu') {
      const attempt = await tryProvider(artifacts, options);
      if (attempt.ok) {
        options.logger.info(`execution provider: ${requested} (probe max |${requested} - cpu| = ${attempt.maxAbsDiff.toExponential(2)})`);
        const parity = { against: 'cpu' as const, maxAbsDiff: attempt.maxAbsDiff, tolerance: EP_PARITY_TOLERANCE };
        return { runtime: new NodeRuntime(report({ active: requested, parity }, attempt.sessions), options), sessions: attempt.sessions.map(wrapSession) };
      }
      const message = `execution provider '${requested}' cannot be used: ${attempt.reason}`;
      if (options.strict) throw new AekitError('BACKEND_UNAVAILABLE', `${message} (--strict-ep: not falling back to cpu)`);
      options.logger.warn(`${message}; falling back to cpu`);
      const sessions = await openAll(artifacts, 'cpu', options);
      return { runtime: new NodeRuntime(report({ active: 'cpu', fallbackReason: attempt.reason }, sessions), options), sessions: sessions.map(wrapSession) };
    }
    const sessions = await openAll(artifacts, 'cpu', options);
    return { runtime: new NodeRuntime(report({ active: 'cpu' }, sessions), options), sessions: sessions.map(wrapSession) };
  }
}

function openSession(artifact: ArtifactToOpen, ep: ExecutionProviderName, options: RuntimeOptions): Promise<OrtSessionHandle> {
  return openOrtSession(EXECUTION_PROVIDERS[ep], artifact.bytes, { threads: options.intraOpNumThreads });
}

async function openAll(artifacts: ArtifactToOpen[], ep: ExecutionProviderName, options: RuntimeOptions): Promise<OrtSessionHandle[]> {
  const sessions: OrtSessionHandle[] = [];
  try {
    for (const artifact of artifacts) sessions.push(await openSession(artifact, ep, options));
  } catch (error) {
    await Promise.all(sessions.map((s) => s.release()));
    throw error;
  }
  return sessions;
}

type Attempt = { ok: true; sessions: OrtSessionHandle[]; maxAbsDiff: number } | { ok: false; reason: string };

async function tryProvider(artifacts: ArtifactToOpen[], options: RuntimeOptions): Promise<Attempt> {
  const ep = options.executionProvider;
  const sessions: OrtSessionHandle[] = [];
  const releaseAll = () => Promise.all(sessions.map((s) => s.release()));
  let worst = 0;
  for (const artifact of artifacts) {
    let session: OrtSessionHandle;
    try {
      session = await openSession(artifact, ep, options);
    } catch (error) {
      await releaseAll();
      // openOrtSession wraps onnxruntime's error; its first line says why.
      const reason = shortReason(error instanceof AekitError && error.cause !== undefined ? error.cause : error);
      const next = hint(ep, reason);
      return { ok: false, reason: `${reason}${next ? ` (${next})` : ''}` };
    }
    sessions.push(session);
    const cpu = await openSession(artifact, 'cpu', options);
    try {
      const feeds = probeFeeds(artifact);
      const [onEp, onCpu] = [await wrapSession(session).run(feeds), await wrapSession(cpu).run(feeds)];
      const close = closeTo(onEp, onCpu);
      worst = Math.max(worst, close.maxAbsDiff);
      if (!close.ok) {
        await releaseAll();
        const { atol, rtol } = EP_PARITY_TOLERANCE;
        return { ok: false, reason: `${artifact.where}: outputs differ from the cpu provider by up to ${close.maxAbsDiff} (bound ${atol} + ${rtol}·|cpu|)` };
      }
    } catch (error) {
      await releaseAll();
      return { ok: false, reason: `${artifact.where}: probe run failed: ${shortReason(error)}` };
    } finally {
      await cpu.release();
    }
  }
  return { ok: true, sessions, maxAbsDiff: worst };
}
