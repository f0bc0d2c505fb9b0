import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_METHODS } from '../../electron/shared/ipc-contract.js';

// Every failed request must reach the person. A request made from the window either has its
// Result read where it is made (`const result = await reclaim.x(...)`, a branch of a conditional
// that assigns one, or the claim panels' run()), or goes through reported(), which shows a failure in the notice area. A request whose
// Result is thrown away (`void reclaim.x(...)`) fails here, naming the file and line.

const ROOT = path.resolve(import.meta.dirname, '../../renderer');
const READ_WHERE_MADE = /(?:reported\(|const \w+ = await |^[?:] await |run\(\(\) => )$/;

function requestCalls(): Array<{ where: string; before: string }> {
  const files = readdirSync(ROOT, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
  const call = new RegExp(`reclaim\\.(?:${API_METHODS.join('|')})\\(`, 'g');
  return files.flatMap((file) => readFileSync(file, 'utf8').split('\n').flatMap((line, index) =>
    [...line.matchAll(call)].map((match) => ({
      where: `${path.relative(ROOT, file)}:${index + 1}`,
      before: line.slice(0, match.index).trimStart(),
    }))));
}

describe('requests from the window', () => {
  it('finds the requests it checks', () => {
    expect(requestCalls().length).toBeGreaterThan(20);
  });

  it('never throws a Result away', () => {
    const dropped = requestCalls().filter((call) => !READ_WHERE_MADE.test(call.before)).map((call) => `${call.where}: ${call.before}…`);
    expect(dropped).toEqual([]);
  });
});
