import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every mainstream Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU milliseconds (user + system, all threads) used so far by the process group led by `pid`,
 * from /proc; NaN where /proc is not available. The group, because startProcess runs the
 * server under a small guard process. Differences between two readings around a load run give
 * the server's CPU cost per request, which the emulators' own limits cannot hide.
 */
export function cpuMillis(groupLeaderPid: number | undefined): number {
  if (groupLeaderPid === undefined) return Number.NaN;
  let ticks = 0;
  let found = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return Number.NaN;
  }
  for (const pid of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the parenthesised command name: state, ppid, pgrp, …; utime and stime are 11 and 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== groupLeaderPid) continue;
    found = true;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return found ? (ticks * 1000) / TICKS_PER_SECOND : Number.NaN;
}

/**
 * Waits until the process groups led by `pids` are idle together: under `maxPercent` of one CPU
 * over a `windowMs` window. Resolves with the milliseconds waited (so a caller can report how long
 * the previous phase's backlog took to drain), or with the time out if they never go idle.
 */
export async function waitForIdle(
  pids: (number | undefined)[],
  o: { maxPercent?: number; windowMs?: number; timeoutMs?: number } = {},
): Promise<{ waitedMs: number; idle: boolean }> {
  const maxPercent = o.maxPercent ?? 10;
  const windowMs = o.windowMs ?? 500;
  const timeoutMs = o.timeoutMs ?? 20_000;
  const started = performance.now();
  const total = (): number => {
    let ms = 0;
    for (const pid of pids) ms += cpuMillis(pid) || 0;
    return ms;
  };
  let before = total();
  while (performance.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, windowMs));
    const after = total();
    if (((after - before) / windowMs) * 100 < maxPercent) return { waitedMs: performance.now() - started, idle: true };
    before = after;
  }
  return { waitedMs: performance.now() - started, idle: false };
}
