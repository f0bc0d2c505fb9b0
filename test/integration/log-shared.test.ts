import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopChild } from '../support/child.js';
import { EventLog } from '../support/events.js';

// Reclaim's log is one file shared by the app and the CLI, rotated by size with one older file
// kept. Two real processes, started together on a log just short of its limit, both find it full
// at once: the one older file must be the full one they found (not a near-empty file rotated a
// second time over it), every line they write must be kept, and neither may lose its log.

const WRITER = path.resolve(import.meta.dirname, '../support/log-writer.mjs');
const BUILT_LOG = path.resolve(import.meta.dirname, '../../dist/electron/core/common/log.js');
const MAX_BYTES = 4000;
const ROUNDS = 300;
const LINES_PER_ROUND = 5;

interface Writer {
  name: string;
  child: ChildProcessWithoutNullStreams;
  answers: EventLog<string>;
  stderr: () => string;
}

let dir: string;
let file: string;
let writers: Writer[] = [];

function startWriter(name: string): Writer {
  const child = spawn(process.execPath, [WRITER, file, name, String(MAX_BYTES)], { stdio: 'pipe' });
  const answers = new EventLog<string>();
  createInterface({ input: child.stdout }).on('line', answers.push);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { name, child, answers, stderr: () => stderr };
}

beforeAll(async () => {
  if (!existsSync(BUILT_LOG)) throw new Error(`The built core is missing (${BUILT_LOG}). Run: npm run build`);
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-log-shared-'));
  file = path.join(dir, 'Reclaim', 'reclaim.log');
  await mkdir(path.dirname(file), { recursive: true });
  writers = [startWriter('app'), startWriter('cli')];
});

afterAll(async () => {
  await Promise.all(writers.map((writer) => stopChild(writer.child)));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const linesOf = async (name: string) => (await readFile(name, 'utf8').catch(() => '')).split('\n').filter(Boolean);

describe('the log shared by two processes', () => {
  it('is rotated once when both find it full at the same moment, losing no line and no log', async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      await rm(file, { force: true });
      await rm(`${file}.1`, { force: true });
      // What was there before: as much as fits, so that the next line from either rotates it.
      const earlier: string[] = [];
      for (let n = 1; earlier.join('\n').length + 200 < MAX_BYTES; n++) earlier.push(`earlier round ${round} line ${n} ${'e'.repeat(60)}`);
      await appendFile(file, `${earlier.join('\n')}\n`);

      for (const writer of writers) writer.child.stdin.write(`go ${round} ${LINES_PER_ROUND}\n`);
      await Promise.all(writers.map((writer) => writer.answers.waitFor((answer) => answer === `done ${round}`, `${writer.name} to finish round ${round}`, 20_000)));

      const older = await linesOf(`${file}.1`);
      const current = await linesOf(file);
      for (const writer of writers) expect(writer.stderr(), `${writer.name} in round ${round}`).toBe('');
      // The older file is the full one both found, whole (a writer that lost the race may add its line there).
      expect(older.filter((line) => line.startsWith('earlier ')), `the earlier lines in the older file after round ${round}`).toHaveLength(earlier.length);
      expect(older.slice(0, earlier.length)).toEqual(earlier);
      const written = writers.flatMap((writer) => Array.from({ length: LINES_PER_ROUND }, (_, i) => ` ${writer.name} round ${round} line ${i + 1} `));
      const kept = [...older, ...current];
      for (const line of written) expect(kept.filter((each) => each.includes(line)), `"${line.trim()}" in round ${round}`).toHaveLength(1);
      expect(kept).toHaveLength(earlier.length + written.length);
    }
  }, 120_000);
});
