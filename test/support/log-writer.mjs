// One program sharing Reclaim's log with another, as the app and a CLI do: it writes through the
// built LogFile (dist/). Told on stdin, line by line: "go ROUND COUNT" writes COUNT lines named
// after this writer, the round and their number, then answers "done ROUND" on stdout; end of
// input ends it. A log it could not write is reported on stderr.
import { createInterface } from 'node:readline';
import { LogFile } from '../../dist/electron/core/common/log.js';

const [file, name, maxBytes] = process.argv.slice(2);
const logFile = new LogFile({
  file,
  source: name,
  maxBytes: Number(maxBytes),
  onWriteFailure: (error) => process.stderr.write(`log failure: ${error.message}\n`),
});
const padding = 'x'.repeat(60);
for await (const order of createInterface({ input: process.stdin })) {
  const [word, round, count] = order.split(' ');
  if (word !== 'go') continue;
  for (let n = 1; n <= Number(count); n++) logFile.info(`${name} round ${round} line ${n} ${padding}`);
  process.stdout.write(`done ${round}\n`);
}
