// The benchmark's closing Markdown: the loopback figures as Reclaim / OpenSSH, and issue #13's
// goals with where Reclaim stands against each (computed from this run, never typed in).
import type { LinkSummaryRow, summarizeLinks } from './link.js';
import { fmt } from './stats.js';

export interface ColdHundred { requests: number; rounds: number; reclaimUs: number; opensshUs: number; samples: Record<string, number[]> }

interface Series { median: number; tunnelCpuPerUnit: number }
interface LoopbackSummary { bulk: { reclaim: Series; openssh: Series; ratio: number }; rate: { reclaim: Series; openssh: Series; ratio: number } }

const md = (header: string[], rows: string[][]) => [
  `| ${header.join(' | ')} |`,
  `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

export function loopbackTable(input: {
  summary: LoopbackSummary;
  coldHundred: ColdHundred;
  coldRateUs: { reclaim: number; openssh: number };
  config: { rounds: number; bulkBytes: number; requests: number; concurrency: number };
}): string {
  const { summary: s, coldHundred: c, coldRateUs, config } = input;
  const row = (label: string, reclaim: number, openssh: number, digits = 0) => [label, fmt(reclaim, digits), fmt(openssh, digits), fmt(reclaim / openssh, 2)];
  return [
    `**Loopback** (no added latency; medians of ${config.rounds * 2} samples per tunnel unless said; for speeds a ratio above 1 is better, for CPU below 1)\n`,
    md(['metric', 'Reclaim', 'OpenSSH', 'Reclaim / OpenSSH'], [
      row(`bulk download ${config.bulkBytes / 2 ** 20} MiB, MB/s`, s.bulk.reclaim.median, s.bulk.openssh.median, 1),
      row(`new connections per second (GET /hello, c=${config.concurrency})`, s.rate.reclaim.median, s.rate.openssh.median),
      row('bulk: tunnel CPU-s per GB', s.bulk.reclaim.tunnelCpuPerUnit, s.bulk.openssh.tunnelCpuPerUnit, 2),
      row('tunnel CPU µs per request (warm process)', s.rate.reclaim.tunnelCpuPerUnit, s.rate.openssh.tunnelCpuPerUnit),
      row(`tunnel CPU µs per request, cold process: first ${c.requests} connections (medians of ${c.rounds} fresh processes)`, c.reclaimUs, c.opensshUs),
      row(`tunnel CPU µs per request, cold process: first ${config.requests} requests (one process)`, coldRateUs.reclaim, coldRateUs.openssh),
    ]),
  ].join('\n');
}

type LinkSummary = ReturnType<typeof summarizeLinks>;

export function goalsTable(input: { links?: LinkSummary; bulkRatio: number; coldHundred: ColdHundred }): string {
  const rows: string[][] = [];
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');
  const worst = (list: LinkSummaryRow[], pick: (r: LinkSummaryRow) => number) => {
    const valid = list.filter((r) => Number.isFinite(pick(r)));
    if (valid.length === 0) return undefined;
    return valid.reduce((a, b) => (pick(b) > pick(a) ? b : a));
  };
  const links = input.links;
  const metrics: Array<[string, (r: LinkSummaryRow) => number]> = [
    ['start → first reply, CLI', (r) => r.cliRatio],
    ['start → first reply, app connect()', (r) => r.appRatio],
    ['page load, load event', (r) => r.pageLoad.ratio],
    ['page load, last API reply', (r) => r.lastApi.ratio],
  ];
  for (const [name, pick] of metrics) {
    const far = links ? worst(links.rows.filter((r) => r.rttMs >= 40), pick) : undefined;
    rows.push([`${name}: ≤ 0.8× OpenSSH at 40 ms and above`, far ? `worst ${fmt(pick(far), 2)}× (${far.link})` : '', verdict(far ? pick(far) <= 0.8 : undefined)]);
    const any = links ? worst(links.rows, pick) : undefined;
    rows.push([`${name}: never worse than OpenSSH`, any ? `worst ${fmt(pick(any), 2)}× (${any.link})` : '', verdict(any ? pick(any) <= 1 : undefined)]);
  }
  const startup = links?.startup.reclaimCli;
  rows.push(['CLI start-up (process start → first byte at the server) < 150 ms', startup !== undefined ? `${fmt(startup, 0)} ms (OpenSSH ${fmt(links!.startup.openssh, 0)} ms)` : '', verdict(startup !== undefined && Number.isFinite(startup) ? startup < 150 : undefined)]);
  rows.push(['bulk on loopback ≥ 1.0× OpenSSH', `${fmt(input.bulkRatio, 2)}×`, verdict(Number.isFinite(input.bulkRatio) ? input.bulkRatio >= 1 : undefined)]);
  const cold = input.coldHundred.reclaimUs / input.coldHundred.opensshUs;
  rows.push([`cold process (first ${input.coldHundred.requests} connections) ≤ 2× OpenSSH's CPU per request`, `${fmt(cold, 2)}×`, verdict(Number.isFinite(cold) ? cold <= 2 : undefined)]);
  return [`**Goals** (issue #13; from this run)\n`, md(['goal', 'Reclaim now', ''], rows)].join('\n');
}
