/** The machine a benchmark's figures come from, recorded in its report. */
import * as os from 'node:os';

/** The machine the figures come from. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  totalMemoryBytes: number;
  platform: string;
  release: string;
  node: string;
  /** 1, 5 and 15-minute load averages when the benchmark started and ended. */
  loadAverage: { start: number[]; end: number[] };
}

/** This machine, with the load average at the start (`loadStart`, from `os.loadavg()`) and now. */
export function machineInfo(loadStart: number[]): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.arch()}`,
    release: os.release(),
    node: process.version,
    loadAverage: { start: loadStart, end: os.loadavg() },
  };
}
