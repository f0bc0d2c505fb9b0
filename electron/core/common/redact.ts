// Plex tokens and claim tokens taken out of text that leaves Reclaim's memory: the diagnose
// report a person pastes into a forum, and every line of the log. Checks and log lines should
// never carry one anyway; this is the net under that rule, because a pasted report is public and
// a mistake there cannot be taken back. Passwords have no shape to find, so they are never put
// into such text at all.

const SECRETS: Array<[RegExp, string]> = [
  [/claim-[A-Za-z0-9_-]{4,}/g, 'claim-[redacted]'],
  [/(X-Plex-Token["']?\s*[=:]\s*["']?)[^\s&"',;]+/gi, '$1[redacted]'],
  [/([?&](?:X-Plex-)?token=)[^\s&"']+/gi, '$1[redacted]'],
  [/(authToken["']?\s*[=:]\s*["']?)[^\s&"',;]+/gi, '$1[redacted]'],
];

export function redactSecrets(text: string): string {
  return SECRETS.reduce((redacted, [pattern, replacement]) => redacted.replace(pattern, replacement), text);
}
