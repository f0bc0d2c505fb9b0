import { Agent, request, type Dispatcher } from 'undici';

// One small HTTP helper for the Plex clients: a bounded wait, a bounded body, and the body as
// text, because every reply is parsed strictly by its caller and a reply the caller cannot
// read is an error it must name, never something half-read.

export interface HttpReply {
  status: number;
  contentType: string;
  body: string;
}

export interface HttpOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

export async function httpRequest(url: string, options: HttpOptions = {}): Promise<HttpReply> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const reply = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers,
    dispatcher: options.dispatcher,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of reply.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      reply.body.destroy();
      throw new BodyTooLargeError(`reply larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const type = reply.headers['content-type'];
  return { status: reply.statusCode, contentType: String(Array.isArray(type) ? type[0] : type ?? ''), body: Buffer.concat(chunks).toString('utf8') };
}

/** A connection pool of its own, so closing a tunnel also closes what was pooled through it. */
export function createPool(): Agent {
  return new Agent({ keepAliveTimeout: 4_000, connections: 8 });
}

/** The network error code behind an undici failure (ECONNREFUSED, ENOTFOUND, ...), if any. */
export function networkErrorCode(error: unknown): string | undefined {
  let current = error as { code?: string; cause?: unknown; name?: string } | undefined;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return 'ETIMEDOUT';
    if (typeof current.code === 'string') {
      if (current.code === 'UND_ERR_CONNECT_TIMEOUT' || current.code === 'UND_ERR_HEADERS_TIMEOUT' || current.code === 'UND_ERR_BODY_TIMEOUT') return 'ETIMEDOUT';
      if (!current.code.startsWith('UND_ERR')) return current.code;
    }
    current = current.cause as typeof current;
  }
  return (error as { code?: string } | undefined)?.code;
}

/** A Plex API call: the caller's X-Plex-* headers, JSON preferred, a token only in its header. */
export function plexRequest(
  url: string,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  token: string | undefined,
  dispatcher: Dispatcher,
  timeoutMs?: number,
): Promise<HttpReply> {
  return httpRequest(url, {
    method,
    headers: { ...headers, Accept: 'application/json', ...(token ? { 'X-Plex-Token': token } : {}) },
    dispatcher,
    timeoutMs,
  });
}

/** A network failure in words a person understands. */
export function describeNetworkError(code: string | undefined, error: unknown): string {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the name lookup failed';
    case 'ECONNREFUSED':
      return 'the connection was refused';
    case 'ETIMEDOUT':
      return 'no answer in time';
    case 'ECONNRESET':
      return 'the connection was cut';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `its certificate is not trusted (${code}): something may be intercepting secure connections, or this computer's clock is wrong`;
    default:
      return code ?? (error as Error).message;
  }
}
