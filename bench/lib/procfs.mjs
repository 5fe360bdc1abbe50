/**
 * What the benchmarks read from /proc about other processes (Linux only): resident memory, CPU
 * time of a process and of each of its threads, kernel socket memory, machine-wide CPU.
 */
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every mainstream Linux). */
export const CLK_TCK = 100;

/** Resident set size in bytes (VmRSS), or NaN when the process is gone. */
export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** utime + stime of a stat file, in seconds. */
function statCpu(path) {
  const s = readFileSync(path, 'utf8');
  // The command name is in parentheses and may contain spaces: fields start after the last ')'.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 of proc(5)
}

/** CPU seconds (user + system) of the whole process. */
export function processCpu(pid) {
  try {
    return statCpu(`/proc/${pid}/stat`);
  } catch {
    return NaN;
  }
}

/** CPU seconds per thread: Map tid -> seconds. */
export function threadCpu(pid) {
  const out = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      out.set(Number(tid), statCpu(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // thread ended meanwhile
    }
  }
  return out;
}

/**
 * Machine-wide CPU seconds from /proc/stat: busy and total over all cores, plus the kinds of busy
 * time that no process is charged with (softirq: loopback TCP work; steal: the hypervisor).
 */
export function machineCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return {
    busy: (total - idle - iowait) / CLK_TCK,
    total: total / CLK_TCK,
    user: (user + nice) / CLK_TCK,
    system: system / CLK_TCK,
    softirq: (irq + softirq) / CLK_TCK,
    steal: steal / CLK_TCK,
  };
}

/** Kernel memory that RSS does not show: slab bytes and TCP socket buffer pages. */
export function kernelMemory() {
  const out = { slabBytes: NaN, tcpMemBytes: NaN, tcpInUse: NaN };
  try {
    const m = /Slab:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) out.slabBytes = Number(m[1]) * 1024;
  } catch {}
  try {
    const m = /TCP: inuse (\d+) .* mem (\d+)/.exec(readFileSync('/proc/net/sockstat', 'utf8'));
    if (m) {
      out.tcpInUse = Number(m[1]);
      out.tcpMemBytes = Number(m[2]) * 4096;
    }
  } catch {}
  return out;
}

/** The open-files limit of this process (soft), as `ulimit -n` shows it. */
export function openFilesLimit() {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? m[1] : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function machineFacts() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    openFilesLimit: openFilesLimit(),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    platform: `${process.platform}-${process.arch}`,
  };
}
