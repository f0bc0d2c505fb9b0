import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exitOf, runCli } from './cli.js';

// runCli, the way integration tests run the built `reclaim`: a test that writes to its stdin (a
// claim token, say) while the CLI is already on its way out must see the CLI's own answer, not
// an EPIPE 'error' that nobody handled.

let home: string;
beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-cli-run-'));
});
afterAll(async () => rm(home, { recursive: true, force: true }));

it('input the CLI never reads does not break the run: its exit and message still tell what happened', async () => {
  const run = runCli(['no-such-command', '--json'], { home });
  // More than a pipe holds, so the write is still pending when the CLI exits: EPIPE for sure.
  run.child.stdin!.end('x'.repeat(4 * 1024 * 1024));
  expect(await exitOf(run)).toEqual({ code: 2, signal: null });
  expect(run.events.events).toEqual([expect.objectContaining({ event: 'error', code: 'BAD_INPUT', message: '"no-such-command" is not a reclaim command.' })]);
});
