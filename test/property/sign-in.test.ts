import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReclaimError } from '../../electron/core/common/errors.js';
import type { HttpReply } from '../../electron/core/plex/http-request.js';
import { readPinCheckReply, readTokenCheckReply, type PlexTvClient } from '../../electron/core/plex/plex-tv.js';
import { signInWithPlex } from '../../electron/core/plex/sign-in.js';
import { asyncOutcomeOf, runs } from './bounds.js';

// Sign in with Plex, polled against whatever plex.tv answers: it ends (approved, expired, refused
// or too many failures in a row), always with a token or a ReclaimError, and the token is the one
// plex.tv approved.

type Poll = HttpReply | 'unreachable';

const poll: fc.Arbitrary<Poll> = fc.oneof(
  fc.constant<Poll>('unreachable'),
  fc.record({
    status: fc.constantFrom(200, 200, 200, 404, 500, 429),
    contentType: fc.constant('application/json'),
    body: fc.oneof(
      fc.constantFrom('{"authToken":null}', '{"authToken":""}', '{}', 'null', '[]', '{"authToken":7}', 'not json'),
      fc.string({ minLength: 1, maxLength: 20 }).map((token) => JSON.stringify({ id: 1, code: 'ABCD', authToken: token })),
    ),
  }),
);

const userReply: fc.Arbitrary<HttpReply> = fc.record({
  status: fc.constantFrom(200, 401, 500),
  contentType: fc.constant('application/json'),
  body: fc.constantFrom('{"username":"me"}', '{"title":"Me"}', '{}', 'null', 'garbage'),
});

function plexTvAnswering(polls: Poll[], user: HttpReply): PlexTvClient {
  let next = 0;
  return {
    createPin: async () => ({ id: 1, code: 'ABCD' }),
    authUrl: () => 'https://app.plex.tv/auth#?code=ABCD',
    checkPin: async () => {
      // After the scripted answers the PIN is gone, as plex.tv says once it expires.
      const answer = polls[next++] ?? { status: 404, contentType: '', body: '' };
      if (answer === 'unreachable') throw new ReclaimError('PLEX_TV_UNREACHABLE', 'plex.tv could not be reached.', 'Check the connection.');
      return readPinCheckReply(answer);
    },
    checkToken: async () => readTokenCheckReply(user),
  } as unknown as PlexTvClient;
}

/** What sign-in must do with these answers, step by step. */
function expected(polls: Poll[], user: HttpReply): { token: string } | { code: string } {
  let failures = 0;
  for (const answer of polls) {
    let result: string | null | 'expired';
    try {
      if (answer === 'unreachable') throw new ReclaimError('PLEX_TV_UNREACHABLE', '', '');
      result = readPinCheckReply(answer);
    } catch (error) {
      if (++failures >= 5) return { code: (error as ReclaimError).code };
      continue;
    }
    failures = 0;
    if (result === 'expired') return { code: 'SIGNIN_EXPIRED' };
    if (result !== null) return readTokenCheckReply(user).check === 'invalid' ? { code: 'PLEX_TOKEN_INVALID' } : { token: result };
  }
  return { code: 'SIGNIN_EXPIRED' };
}

describe('signing in with Plex, whatever plex.tv answers', () => {
  it('ends with the approved token or a ReclaimError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(poll, { maxLength: 12 }), userReply, async (polls, user) => {
        const result = await asyncOutcomeOf(signInWithPlex(plexTvAnswering(polls, user), { onUrl: () => {}, pollIntervalMs: 0 }));
        const want = expected(polls, user);
        if ('token' in want) expect(result).toMatchObject({ ok: true, value: { token: want.token } });
        else expect(result.ok ? 'signed in' : result.error.code).toBe(want.code);
      }),
      runs(100),
    );
  });
});
