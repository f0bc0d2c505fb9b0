// What a person typed (or a file held), shown back inside a message: quoted, cut to a length
// that fits on a line, and with control characters written out, so a pasted 2000-character
// string stays readable and an escape sequence cannot clear the terminal or fake a line.

const MAX_SHOWN = 60;

export function quoteInput(text: string): string {
  const chars = [...text];
  const shown = chars.length > MAX_SHOWN ? `${chars.slice(0, MAX_SHOWN).join('')}…` : text;
  return `"${shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, escapeControl)}"`;
}

function escapeControl(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
