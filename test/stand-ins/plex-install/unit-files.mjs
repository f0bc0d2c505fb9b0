// Reads a systemd service the way systemd does, for the systemctl stand-in: the unit file found
// first on the search path, then its drop-ins (`<unit>.d/*.conf`) in file-name order, with
// systemd's syntax (line continuation, quoting, C escapes, `${VAR}` in command lines).
// Only what Plex Media Server's unit uses: Environment=, User=, Group=, ExecStartPre=, ExecStart=,
// and what a drop-in may add to change how it stops: TimeoutStopSec=, SendSIGKILL=.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// systemd's system unit search path on Debian 12, most important first (/lib is /usr/lib here).
const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

/** `plexmediaserver` → `plexmediaserver.service`, as systemctl completes a name without a type. */
export function unitName(arg) {
  return /\.(service|socket|target|timer|mount|path|slice|scope)$/.test(arg) ? arg : `${arg}.service`;
}

/** The unit as loaded, or undefined when no unit file exists. */
export function loadUnit(name) {
  const fragmentPath = UNIT_DIRS.map((dir) => join(dir, name)).find((path) => existsSync(path));
  if (!fragmentPath) return undefined;
  // A drop-in in a more important directory masks one of the same name further down the path.
  const dropIns = new Map();
  for (const dir of UNIT_DIRS) {
    let entries = [];
    try { entries = readdirSync(join(dir, `${name}.d`)); } catch { /* no drop-in directory here */ }
    for (const entry of entries) if (entry.endsWith('.conf') && !dropIns.has(entry)) dropIns.set(entry, join(dir, `${name}.d`, entry));
  }
  const dropInPaths = [...dropIns.keys()].sort().map((entry) => dropIns.get(entry));
  const files = [fragmentPath, ...dropInPaths].map((path) => ({ path, text: readFileSync(path, 'utf8') }));

  const unit = {
    name, fragmentPath, dropInPaths, files, description: '', environment: new Map(), user: '', group: '', execStartPre: [], execStart: [],
    timeoutStopSec: undefined, sendSigkill: true,
  };
  for (const file of files) {
    for (const [section, key, value] of assignments(file.text)) {
      if (section === 'Unit' && key === 'Description') unit.description = value;
      if (section !== 'Service') continue;
      if (key === 'Environment') {
        if (value === '') unit.environment.clear();
        for (const word of splitWords(value)) {
          const eq = word.indexOf('=');
          // systemd ignores (with a warning) assignments that are not NAME=value.
          if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(word.slice(0, eq))) unit.environment.set(word.slice(0, eq), word.slice(eq + 1));
        }
      } else if (key === 'User') unit.user = value;
      else if (key === 'TimeoutStopSec') unit.timeoutStopSec = /^\d+(s)?$/.test(value) ? parseInt(value, 10) : undefined; // only plain seconds here
      else if (key === 'SendSIGKILL') unit.sendSigkill = !/^(no|false|0|off)$/i.test(value);
      else if (key === 'Group') unit.group = value;
      else if (key === 'ExecStartPre' || key === 'ExecStart') {
        const list = key === 'ExecStart' ? unit.execStart : unit.execStartPre;
        if (value === '') list.length = 0; // an empty assignment resets the list (how drop-ins replace ExecStart)
        else list.push(parseCommand(value));
      }
    }
  }
  return unit;
}

/** [section, key, value] for each assignment, continuation lines joined. */
function* assignments(text) {
  const lines = text.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      section = line.slice(1, line.indexOf(']'));
      continue;
    }
    // A trailing backslash continues the line: systemd replaces it with a space and skips comment
    // lines within the continuation.
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = lines[++i].trim();
      if (next.startsWith('#') || next.startsWith(';')) continue;
      line = `${line.slice(0, -1)} ${next}`;
    }
    const eq = line.indexOf('=');
    if (eq > 0) yield [section, line.slice(0, eq).trim(), line.slice(eq + 1).trim()];
  }
}

const ESCAPES = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', s: ' ', '\\': '\\', '"': '"', "'": "'" };

/** systemd's word splitting: whitespace separates, "…" and '…' group, C escapes apply everywhere. */
export function splitWords(text) {
  const words = [];
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) return words;
    let word = '';
    let quote = '';
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\\' && i + 1 < text.length) {
        const next = text[++i];
        if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
          word += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
          i += 2;
        } else word += ESCAPES[next] ?? `\\${next}`; // an unknown escape stays as written
        continue;
      }
      if (quote) {
        if (c === quote) quote = '';
        else word += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (/\s/.test(c)) break;
      else word += c;
    }
    if (quote) throw new Error(`unbalanced quotes in: ${text}`);
    words.push(word);
  }
}

/** An Exec line: prefixes (`-` failure ignored, `+` runs as root; others ignored) and argv. */
function parseCommand(value) {
  const prefix = /^[-@+!:]*/.exec(value)[0];
  const argv = splitWords(value.slice(prefix.length));
  if (argv.length === 0) throw new Error(`empty command line: ${value}`);
  return { ignoreFailure: prefix.includes('-'), asRoot: prefix.includes('+'), argv };
}

/**
 * systemd's variable expansion of an Exec argv: `${NAME}` anywhere in a word is replaced by the
 * value, a word that is exactly `$NAME` becomes the value split at whitespace, `$$` is `$`.
 */
export function expandCommand(argv, env) {
  return argv.flatMap((word) => {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) return (env[whole[1]] ?? '').split(/\s+/).filter(Boolean);
    return [word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name) => (m === '$$' ? '$' : env[name] ?? ''))];
  });
}
