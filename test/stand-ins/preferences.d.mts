export function parsePreferences(xml: string): Map<string, string>;
export function serializePreferences(settings: Iterable<readonly [string, string]>): string;
