/**
 * What else the machine was doing: the benchmark shares its cores with whatever else runs, and a
 * figure measured while another program used a core is not a figure of this app. Busy CPU of the
 * whole machine (/proc/stat) minus the CPU of the benchmark's own processes is "foreign" CPU; the
 * report prints it per scenario so a disturbed run shows as such.
 */
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';

const USER_HZ = 100;

/** Seconds of CPU time the whole machine has spent busy (every core), or NaN without /proc. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, ...fields] = line.trim().split(/\s+/);
    const values = fields.map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return (total - idle) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds this process (the orchestrator and the load generator) has used. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export function machineDescription(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown CPU';
  const memory = (Number(readMemTotalKb()) / 1024 / 1024).toFixed(0);
  return `${list.length} × ${model}, ${memory} GiB RAM, Linux, Node ${process.version}`;
}

function readMemTotalKb(): number {
  try {
    return Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export function loadAverage(): number {
  return loadavg()[0] ?? 0;
}
