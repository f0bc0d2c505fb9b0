// Preferences.xml as Plex Media Server keeps it on Linux (plex-claim.md §3, §5; plex-repair.md §4): one
// `<Preferences …/>` element whose attributes are the settings, after an XML declaration, and the
// element on the last line (UserCredentialReset reads it with `tail -1`). Used by the PMS stand-in
// (read at start, rewritten from memory) and by tests that check what ended up in the file.

const DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

const decode = (value) => value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity) => {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity.toLowerCase()];
  if (named) return named;
  return String.fromCodePoint(entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
});

const encode = (value) => String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The settings in file order. Throws an Error naming the problem when the text holds no
 * `<Preferences>` element or an attribute is not well formed.
 */
export function parsePreferences(xml) {
  const start = /<Preferences(?=[\s/>])/.exec(xml);
  if (!start) throw new Error('no <Preferences> element');
  const settings = new Map();
  // Attribute by attribute: a value may hold a raw ">" (legal XML), never a raw "<".
  const attribute = /\s*([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;
  const close = /\s*\/?>/y;
  let at = start.index + start[0].length;
  for (;;) {
    close.lastIndex = at;
    if (close.test(xml)) return settings;
    attribute.lastIndex = at;
    const m = attribute.exec(xml);
    if (!m) throw new Error(`malformed attribute near "${xml.slice(at, at + 30).trim()}"`);
    settings.set(m[1], decode(m[2] ?? m[3]));
    at = attribute.lastIndex;
  }
}

/** The file PMS writes: declaration, then the element with every setting in order, newline-terminated. */
export function serializePreferences(settings) {
  const attrs = [...settings].map(([key, value]) => ` ${key}="${encode(value)}"`).join('');
  return `${DECLARATION}\n<Preferences${attrs}/>\n`;
}
