import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The suite's setup file (unhandled-errors.ts) against stray errors at known moments: vitest runs
// stray-errors.fixture.ts with the project's config, as `npm test` would run a test file.

const ROOT = path.resolve(import.meta.dirname, '../..');

interface JsonReport {
  success: boolean;
  testResults: Array<{
    message: string;
    assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }>;
  }>;
}

function runFixture(): Promise<{ code: number | null; report: JsonReport; stderr: string }> {
  // The child is a vitest of its own: none of this worker's VITEST_* settings may leak into it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '-c', 'test/support/fixtures/vitest.config.ts', '--reporter=json'],
      { cwd: ROOT, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(new Error(`vitest did not run: ${error.message}\n${stderr}`));
        try {
          resolve({ code: error ? (error.code as number) : 0, report: JSON.parse(stdout) as JsonReport, stderr });
        } catch {
          reject(new Error(`vitest printed no JSON report.\nstdout: ${stdout}\nstderr: ${stderr}`));
        }
      },
    );
  });
}

describe('an error nobody handled', () => {
  it('fails the test it happened in, naming the test and the error; later tests pass; the run fails', async () => {
    const { code, report } = await runFixture();
    expect(code).toBe(1);
    expect(report.success).toBe(false);
    const [file] = report.testResults;
    const byName = Object.fromEntries(file!.assertionResults.map((t) => [t.fullName, t]));

    const stray = byName['strays emits an error event nobody listens to']!;
    expect(stray.status).toBe('failed');
    expect(stray.failureMessages.join('\n')).toMatch(
      /Uncaught exception while test "strays > emits an error event nobody listens to" was running:\nError: read ECONNRESET \(no listener\)\n\s+at .*stray-errors\.fixture\.ts:\d+/,
    );
    expect(byName['strays is clean']!.status).toBe('passed');

    // After the last test (here in the file's afterAll), the file fails, naming the last test.
    expect(file!.message).toMatch(/Unhandled rejection after test "strays > is clean" had finished:\nError: rejected after the tests, nobody awaiting/);
  });
});
