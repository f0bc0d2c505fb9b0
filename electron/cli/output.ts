import { isCancelled, printable, type ReclaimError } from '../core/common/errors.js';
import { fixOnCommandLine, type Rerun } from './next-steps.js';

// Two audiences: people read plain sentences on stderr; programs read one JSON object per line
// on stdout (--json). Both get the same facts, and never a stack trace. On a terminal, prose is
// wrapped to its width at spaces; commands to paste sit on their own indented lines and are never
// broken, so a copied line runs as printed.

export interface Output {
  json: boolean;
  /** A JSON event (with --json) or nothing. */
  event(event: Record<string, unknown>): void;
  /** A line for people (without --json); stdout for results, stderr for progress. */
  say(text: string, stream?: 'stdout' | 'stderr'): void;
  error(error: ReclaimError): void;
  /** Once the command line is read: fixes that are a command to run then name it in full. */
  knowRerun(rerun: Rerun): void;
}

export function createOutput(json: boolean): Output {
  let rerun: Rerun | undefined;
  const write = (stream: 'stdout' | 'stderr', text: string) => {
    const out = process[stream];
    out.write(`${wrapText(printable(text), out.isTTY ? out.columns : undefined)}\n`);
  };
  return {
    json,
    event(event) {
      if (json) process.stdout.write(`${JSON.stringify(event)}\n`);
    },
    say(text, stream = 'stderr') {
      if (!json) write(stream, text);
    },
    error(error) {
      const fix = fixOnCommandLine(error, rerun);
      if (json) process.stdout.write(`${JSON.stringify({ event: 'error', ...error.toJSON(), fix })}\n`);
      else write('stderr', `Error: ${error.message}\nFix: ${fix}\n(code ${error.code})`);
    },
    knowRerun(known) {
      rerun = known;
    },
  };
}

/** Exit status: 130 when the person stopped it (as a shell does for Ctrl+C), 2 for input to correct, 1 for any other failure. */
export function exitCodeFor(error: ReclaimError): number {
  if (isCancelled(error)) return 130;
  return error.code === 'BAD_INPUT' ? 2 : 1;
}

/** Narrower than this, wrapping makes things worse than the terminal's own. */
const MIN_WRAP_COLUMNS = 30;
/** A label whose text the continuation lines line up with: `Error: `, `Fix: `, `[FAIL] `. */
const LABEL = /^(\s*)((?:Error|Fix|Warning): |\[[^\]]{1,6}\] )?/;

/**
 * Words, with each parenthesised group that fits on a line joined into one unit: the core's
 * fixes hold commands that way, "(on the server: ssh-keygen -lf /etc/ssh/…)", and a command
 * broken over two lines no longer runs when copied.
 */
function unbrokenUnits(words: string[], width: number): string[] {
  const units: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const end = word.startsWith('(') && !word.includes(')') ? words.findIndex((later, j) => j > i && later.includes(')')) : -1;
    const group = end > i ? words.slice(i, end + 1).join(' ') : '';
    if (group && group.length <= width) {
      units.push(group);
      i = end;
    } else {
      units.push(word);
    }
  }
  return units;
}

/**
 * Each line wrapped at spaces to `columns`, continuing under the text after its label. A line that
 * starts with a space and no label is laid out already (help, a command to paste): left whole.
 */
export function wrapText(text: string, columns: number | undefined): string {
  if (!columns || columns < MIN_WRAP_COLUMNS) return text;
  return text.split('\n').map((line) => {
    const [lead, spaces, label] = LABEL.exec(line) as unknown as [string, string, string | undefined];
    if (line.length <= columns || (spaces && !label)) return line;
    const indent = ' '.repeat(lead.length);
    const lines: string[] = [];
    let current = lead;
    for (const word of unbrokenUnits(line.slice(lead.length).split(' '), columns - indent.length)) {
      if (current.length > indent.length && current.length + 1 + word.length > columns) {
        lines.push(current);
        current = indent + word;
      } else {
        current += current.length > indent.length ? ` ${word}` : word;
      }
    }
    lines.push(current);
    return lines.join('\n');
  }).join('\n');
}
