// Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per area.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface FunctionCost { name: string; where: string; area: string; selfMs: number; pct: number }
export interface ProfileSummary {
  file: string;
  wallMs: number;
  /** Sampled time that was not (idle): the main thread's on-CPU time, roughly. */
  busyMs: number;
  idleMs: number;
  top: FunctionCost[];
  areas: Array<{ area: string; selfMs: number; pct: number }>;
}

/** Which part of the stack a frame belongs to, for the per-area breakdown. */
export function areaOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'V8/native (program)';
  if (name === '(idle)') return 'idle';
  if (name === '(root)') return 'root';
  if (/node_modules\/ssh2\/lib\/protocol\/crypto/.test(url)) return 'ssh2 crypto (JS glue)';
  if (/node_modules\/ssh2\/lib\/protocol\//.test(url)) return 'ssh2 protocol';
  if (/node_modules\/ssh2\/lib\/Channel/.test(url)) return 'ssh2 Channel (stream)';
  if (/node_modules\/ssh2\/lib\/client/.test(url)) return 'ssh2 client';
  if (/node_modules\/ssh2\//.test(url)) return 'ssh2 other';
  if (/electron\/core\//.test(url)) return 'reclaim core';
  if (/^node:internal\/streams\//.test(url)) return 'node streams';
  if (/^node:(net|internal\/net|internal\/stream_base_commons)/.test(url)) return 'node net/stream_base';
  if (/^node:(events|internal\/event_target)/.test(url)) return 'node events';
  if (/^node:internal\/(timers|process\/task_queues)|^node:timers/.test(url)) return 'node timers/ticks';
  if (/^node:(buffer|internal\/buffer)/.test(url)) return 'node buffer';
  if (/^node:internal\/(crypto)|^node:crypto/.test(url)) return 'node crypto';
  if (url === '' && name) return 'native (builtin/C++)';
  if (/^node:/.test(url)) return 'node other';
  return 'other';
}

/**
 * `window` (CLOCK_MONOTONIC microseconds, the clock V8 stamps profiles with on Linux, same as
 * process.hrtime) keeps only samples taken during the measured run, leaving out start-up and login.
 */
export function summarizeProfile(file: string, topN = 20, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    first = Math.min(first, t);
    last = Math.max(last, t);
    const id = p.samples[i]!;
    // A sample's weight is the time until the next one (V8's convention for self time).
    const next = p.timeDeltas[i + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + next);
  }
  const fns = new Map<string, FunctionCost>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    total += us;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const short = url.replace(/^file:\/\/.*?\/node_modules\//, '').replace(/^file:\/\/.*?\/(dist|electron)\//, '$1/');
    const where = url ? `${short}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const area = areaOf(url, name);
    const entry = fns.get(key) ?? { name, where, area, selfMs: 0, pct: 0 };
    entry.selfMs += us / 1000;
    fns.set(key, entry);
    areas.set(area, (areas.get(area) ?? 0) + us / 1000);
  }
  const busyMs = (total - idle) / 1000;
  const top = [...fns.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, topN);
  for (const f of top) f.pct = (f.selfMs / busyMs) * 100;
  return {
    file,
    wallMs: (window ? last - first : p.endTime - p.startTime) / 1000,
    busyMs,
    idleMs: idle / 1000,
    top,
    areas: [...areas.entries()].map(([area, selfMs]) => ({ area, selfMs, pct: (selfMs / busyMs) * 100 })).sort((a, b) => b.selfMs - a.selfMs),
  };
}
