export function formatLogLine(date: Date, thread: string, line: string): string;
export const LOG_FILE: string;
export const ROTATED_LOGS: number;
export function bannerLine(version: string): string;
export const DNS_FAILURE: readonly string[];
export const TOKEN_REJECTED: readonly string[];
export const TLS_FAILURE: readonly string[];
export const PUBLISHED: readonly string[];
