/**
 * The runtime benchmark (`aekit bench`): one ONNX artifact on every runtime aekit supports, with
 * latency, throughput, achieved GFLOP/s, peak memory and numerical agreement side by side.
 */
export { benchmark, BENCH_DEFAULTS, BENCH_REPORT_SCHEMA } from './bench';
export type { BenchOptions, BenchReport } from './bench';
export { compareOutputs, AGREEMENT_TOLERANCE } from './agreement';
export type { Agreement } from './agreement';
export { findRunFolder } from './artifact-source';
export type { MachineInfo } from './machine';
export type { BenchRow, WorkerLaunchOptions } from './runtime-state';
export { BENCH_RUNTIMES, BENCH_RUNTIME_NAMES, REFERENCE_RUNTIME, checkBenchRuntime } from './runtimes';
export type { BenchRuntime, BenchRuntimeInfo } from './runtimes';
export { FLOP_COUNTED_OPS, knownFlops } from './flops';
export type { CountFlopsOptions, FlopCount, KnownFlops } from './flops';
export { BATCH_DIM_NAMES } from './dims';
export type { RefusedBatch } from './dims';
export type { HostDtype } from '../artifact/runtime';
export { summarise, percentile } from './stats';
export type { LatencySummary } from './stats';
export type { GraphTensor } from './inputs';
export type { MemoryReading, OutputTensor } from './worker';
export { benchChartPng, benchMarkdown, describeMachine, formatBenchTable, writeBenchReport } from './report';
export type { BenchReportFiles } from './report';
