/**
 * The runtimes `aekit bench` compares: one frozen table from the user-facing name to where it runs
 * (a Node child process or headless Chromium) and what it computes with.
 */
import { unknownName } from '../core/errors';

/** Where a runtime runs and what it is. */
export interface BenchRuntimeInfo {
  /** 'node': in a child Node process of its own; 'browser': in a headless Chromium page. */
  host: 'node' | 'browser';
  /** 'onnx': runs the artifact; 'tfjs': runs the original tfjs model of the run. */
  model: 'onnx' | 'tfjs';
  description: string;
}

/** Every runtime, in the order rows are reported. */
export const BENCH_RUNTIMES = Object.freeze({
  'ort-node-cpu': { host: 'node', model: 'onnx', description: 'onnxruntime-node, CPU execution provider' },
  'ort-node-webgpu': { host: 'node', model: 'onnx', description: 'onnxruntime-node, WebGPU execution provider (Dawn over Vulkan)' },
  'ort-node-cuda': { host: 'node', model: 'onnx', description: 'onnxruntime-node, CUDA execution provider' },
  'ort-web-wasm': { host: 'node', model: 'onnx', description: 'onnxruntime-web, wasm execution provider, in Node' },
  'tfjs-wasm': { host: 'node', model: 'tfjs', description: 'TensorFlow.js wasm backend, original tfjs model' },
  'tfjs-cpu': { host: 'node', model: 'tfjs', description: 'TensorFlow.js cpu backend (plain JS), original tfjs model' },
  'tfjs-node': { host: 'node', model: 'tfjs', description: 'TensorFlow.js node backend (libtensorflow), original tfjs model' },
  'chromium-wasm': { host: 'browser', model: 'onnx', description: 'headless Chromium, onnxruntime-web wasm EP, through aekit-web' },
  'chromium-webgpu': { host: 'browser', model: 'onnx', description: 'headless Chromium, onnxruntime-web WebGPU EP, through aekit-web' },
} satisfies Record<string, BenchRuntimeInfo>);

/** A runtime name; see {@link BENCH_RUNTIMES}. */
export type BenchRuntime = keyof typeof BENCH_RUNTIMES;

/** Every runtime name, in report order. */
export const BENCH_RUNTIME_NAMES = Object.freeze(Object.keys(BENCH_RUNTIMES) as BenchRuntime[]);

/** The runtime every other one is compared with (numerical agreement). */
export const REFERENCE_RUNTIME: BenchRuntime = 'ort-node-cpu';

/** Check a runtime name, with an error listing the valid ones. */
export function checkBenchRuntime(name: string): BenchRuntime {
  if (!Object.prototype.hasOwnProperty.call(BENCH_RUNTIMES, name)) throw unknownName('benchmark runtime', name, BENCH_RUNTIME_NAMES);
  return name as BenchRuntime;
}
