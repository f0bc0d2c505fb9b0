import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asReclaimError, ReclaimError } from '../../electron/core/common/errors.js';
import { log, LogFile, openLog } from '../../electron/core/common/log.js';

// Reclaim's log as the person who asks for help hands it over: in order, rotated by size,
// with unexpected errors' stacks and causes, and nothing secret in it. A log that cannot be
// written must not stop anything.

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-log-'));
  file = path.join(dir, 'Reclaim', 'reclaim.log');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const lines = async (name = file) => (await readFile(name, 'utf8')).split('\n').filter(Boolean);

describe('the log file', () => {
  it('writes time, program, process and level on each line, in a private file in its own folder', async () => {
    const logFile = new LogFile({ file, source: 'cli' });
    logFile.info('tunnel 127.0.0.1:8888: ready');
    logFile.error('reclaim tunnel', new ReclaimError('PORT_IN_USE', 'Port 8888 is in use.', 'Pick another.', { port: 8888 }));
    expect(await lines()).toEqual([
      expect.stringMatching(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z cli\\[${process.pid}\\] info: tunnel 127\\.0\\.0\\.1:8888: ready$`)),
      expect.stringMatching(/ error: reclaim tunnel: PORT_IN_USE: Port 8888 is in use\. \{"port":8888\}$/),
    ]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
  });

  it('records an unexpected error with its stack and the chain of causes', async () => {
    const logFile = new LogFile({ file, source: 'app' });
    const inner = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    logFile.error('request connect from the window', asReclaimError(new TypeError('cannot read properties of undefined', { cause: inner })));
    const text = await readFile(file, 'utf8');
    expect(text).toContain('error: request connect from the window: UNEXPECTED: Something unexpected went wrong: cannot read properties of undefined');
    expect(text).toMatch(/\n {4}caused by TypeError: cannot read properties of undefined\n {4}\s*at .*log\.test\.ts/);
    expect(text).toMatch(/\n {4}caused by Error: EIO: i\/o error, read\n {4}\s*at /);
  });

  it('gives an expected error its causes in one line each, without stacks', async () => {
    const logFile = new LogFile({ file, source: 'cli' });
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.2:22'), { code: 'ECONNREFUSED' });
    logFile.error('tunnel', new ReclaimError('CONNECT_FAILED', 'Refused.', 'Check sshd.', { host: '10.0.0.2', port: 22, reason: 'refused' }, { cause: refused }));
    const text = await readFile(file, 'utf8');
    expect(text).toContain('\n    caused by Error: connect ECONNREFUSED 10.0.0.2:22\n');
    expect(text).not.toMatch(/\bat /);
  });

  it('takes Plex and claim tokens out of every line, as the diagnose report does', async () => {
    const logFile = new LogFile({ file, source: 'app' });
    logFile.error('claim', new Error('GET http://127.0.0.1:8888/myplex/claim?token=claim-abcDEF123456&X-Plex-Token=s3cr3tT0k3n failed'));
    logFile.info('reply {"authToken":"zzzSECRETzzz"}');
    const text = await readFile(file, 'utf8');
    expect(text).not.toMatch(/abcDEF123456|s3cr3tT0k3n|zzzSECRETzzz/);
    expect(text).toContain('token=[redacted]');
  });

  it('strips control characters a server may have sent, so the log is safe to print in a terminal', async () => {
    const logFile = new LogFile({ file, source: 'cli' });
    logFile.info('server said: \u001b[2Jcleared\u0007');
    expect(await readFile(file, 'utf8')).toContain('server said: [2Jcleared\n');
  });

  it('rotates by size, keeping one older file, and reads the last lines across both', async () => {
    const logFile = new LogFile({ file, source: 'cli', maxBytes: 2000 });
    for (let n = 1; n <= 100; n++) logFile.info(`line ${n} ${'x'.repeat(40)}`);
    expect((await readdir(path.dirname(file))).sort()).toEqual(['reclaim.log', 'reclaim.log.1']);
    for (const name of [file, `${file}.1`]) expect((await stat(name)).size).toBeLessThanOrEqual(2000);
    const current = await lines();
    expect(current.at(-1)).toMatch(/ line 100 x+$/);
    const older = await lines(`${file}.1`);
    // Nothing lost at the seam, nothing written twice.
    const numberOf = (line: string) => Number(/ line (\d+) /.exec(line)![1]);
    expect(numberOf(current[0]!)).toBe(numberOf(older.at(-1)!) + 1);
    const recent = new LogFile({ file, source: 'cli', maxBytes: 2000 }).recentLines(current.length + 3);
    expect(recent.map(numberOf)).toEqual(Array.from({ length: current.length + 3 }, (_, i) => 100 - current.length - 2 + i));
  });

  it('follows another process that has rotated the shared file, instead of rotating it again', async () => {
    const app = new LogFile({ file, source: 'app', maxBytes: 1000 });
    const cli = new LogFile({ file, source: 'cli', maxBytes: 1000 });
    app.info(`first ${'a'.repeat(600)}`);
    // The cli rotates the file the app began...
    cli.info(`second ${'b'.repeat(600)}`);
    // ...and the app's next line goes after the cli's, not into the old file.
    app.info(`third ${'c'.repeat(100)}`);
    expect((await lines(`${file}.1`)).map((line) => line.split(': ')[1]!.split(' ')[0])).toEqual(['first']);
    expect((await lines()).map((line) => line.split(': ')[1]!.split(' ')[0])).toEqual(['second', 'third']);
  });

  it('while another process rotates, keeps the line in the file already there; a lock left by a dead one does not stop rotating', async () => {
    const logFile = new LogFile({ file, source: 'cli', maxBytes: 1000 });
    logFile.info(`first ${'a'.repeat(600)}`);
    // Another process is rotating right now: this line must not be lost, nor rotate a second time.
    await writeFile(`${file}.lock`, '');
    logFile.info(`second ${'b'.repeat(600)}`);
    expect((await lines()).map((line) => line.split(': ')[1]!.split(' ')[0])).toEqual(['first', 'second']);
    expect(existsSync(`${file}.1`)).toBe(false);
    // That process died holding the lock: once the lock is plainly stale, rotating resumes.
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, longAgo, longAgo);
    logFile.info(`third ${'c'.repeat(100)}`);
    expect((await lines(`${file}.1`)).map((line) => line.split(': ')[1]!.split(' ')[0])).toEqual(['first', 'second']);
    expect((await lines()).map((line) => line.split(': ')[1]!.split(' ')[0])).toEqual(['third']);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('that cannot be written is reported once, as STORAGE_FAILED, and never throws', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const reported: ReclaimError[] = [];
    const echoed: string[] = [];
    const logFile = new LogFile({ file: path.join(blocker, 'reclaim.log'), source: 'app', echo: (line) => echoed.push(line), onWriteFailure: (error) => reported.push(error) });
    expect(() => {
      logFile.info('one');
      logFile.error('two', new Error('boom'));
      logFile.info('three');
    }).not.toThrow();
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ code: 'STORAGE_FAILED', details: { file: path.join(blocker, 'reclaim.log'), errno: expect.any(String) } });
    // The echo (--verbose) goes on regardless, and the report says why the file stops.
    expect(echoed).toHaveLength(3);
    expect(logFile.recentLines(5)).toEqual([expect.stringContaining('Nothing more could be written to the log')]);
  });

  it('survives a failure report that itself throws', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const logFile = new LogFile({ file: path.join(blocker, 'reclaim.log'), source: 'app', onWriteFailure: () => { throw new Error('stderr closed'); } });
    expect(() => logFile.info('one')).not.toThrow();
  });
});

describe('the process log', () => {
  it('is silent until the app or the CLI opens it, then writes to the file given', async () => {
    expect(() => log.info('before')).not.toThrow();
    expect(log.recentLines(10)).toEqual([]);
    openLog({ file, source: 'cli' });
    log.info('after');
    expect(log.recentLines(10)).toEqual([expect.stringContaining('info: after')]);
    expect(await lines()).toHaveLength(1);
  });
});
