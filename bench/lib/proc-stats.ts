/**
 * What Linux knows about a process: CPU seconds (utime + stime of every thread, from
 * /proc/<pid>/stat) and memory (VmRSS now, VmHWM the peak, from /proc/<pid>/status).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux unless rebuilt). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** Fields of /proc/<pid>/stat (or of a thread's, `<pid>/task/<tid>`) after the command name (in parentheses, it may hold spaces). */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU seconds of a process's threads so far, summed by thread name (`MainThread`,
 * `libuv-worker`, `V8Worker`, ...): which work left the main thread, and what V8's helpers cost.
 */
export function threadCpuSeconds(pid: number | 'self'): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const rest = statFields(`${pid}/task/${tid}`);
      out.set(name, (out.get(name) ?? 0) + (Number(rest[11]) + Number(rest[12])) / clockTicks());
    } catch {
      // the thread ended in between
    }
  }
  return out;
}

/** CPU seconds the process has used so far (user + system, all threads). */
export function cpuSeconds(pid: number): number {
  const rest = statFields(pid);
  return (Number(rest[11]) + Number(rest[12])) / clockTicks();
}

/** CPU seconds of this process's children that have exited and been waited for (cutime + cstime). */
export function childrenCpuSeconds(): number {
  const rest = statFields('self');
  return (Number(rest[13]) + Number(rest[14])) / clockTicks();
}

function statusKb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

/** Resident memory now, MiB. */
export function rssMiB(pid: number): number {
  return statusKb(pid, 'VmRSS') / 1024;
}

/** Peak resident memory since the process started, MiB. */
export function peakRssMiB(pid: number): number {
  return statusKb(pid, 'VmHWM') / 1024;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  kernel: string;
  /** 1-minute load average when the run started and ended: how shared the machine was. */
  loadStart: number;
  loadEnd?: number;
}

export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  let os = 'Linux';
  try {
    os = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // not every system has it
  }
  return {
    cpuModel: model,
    cores,
    memoryGiB: Math.round((memKb / 1024 / 1024) * 10) / 10,
    node: process.version,
    os,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    loadStart: loadAverage(),
  };
}
