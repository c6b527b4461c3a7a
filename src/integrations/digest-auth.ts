import { createHash, randomBytes } from 'node:crypto';

/** Digest algorithms of RFC 7616 this client answers, strongest first; a `-sess` variant ranks with its base. */
const ALGORITHMS = ['SHA-512-256', 'SHA-256', 'MD5'] as const;
type Algorithm = (typeof ALGORITHMS)[number];
const HASH: Record<Algorithm, string> = { 'SHA-512-256': 'sha512-256', 'SHA-256': 'sha256', MD5: 'md5' };

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: Algorithm;
  session: boolean;
  qop: 'auth' | 'auth-int' | null;
  userhash: boolean;
}

/**
 * Every challenge in WWW-Authenticate values (one header may hold several, comma-separated, and a server
 * may send several headers) as a scheme and its parameters.
 */
export function parseChallenges(headers: string | string[] | undefined): { scheme: string; params: Record<string, string> }[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  for (const header of [headers ?? []].flat()) {
    const item = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?\s*,?/gy;
    for (let m = item.exec(header); m && m[0].length > 0; m = item.exec(header)) {
      const [, name, value] = m as unknown as [string, string, string | undefined];
      if (value === undefined) challenges.push({ scheme: name.toLowerCase(), params: {} });
      else if (challenges.length > 0) {
        const unquoted = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
        challenges.at(-1)!.params[name.toLowerCase()] = unquoted;
      }
    }
  }
  return challenges;
}

/** The Digest challenge to answer: the strongest algorithm this client supports, or none (with why). */
export function pickDigestChallenge(headers: string | string[] | undefined): DigestChallenge | { unsupported: string } {
  const offered: string[] = [];
  let best: DigestChallenge | undefined;
  for (const { scheme, params } of parseChallenges(headers)) {
    if (scheme !== 'digest' || params.realm === undefined || !params.nonce) continue;
    const named = (params.algorithm ?? 'MD5').toUpperCase();
    offered.push(named);
    const session = named.endsWith('-SESS');
    const algorithm = ALGORITHMS.find((a) => a === (session ? named.slice(0, -5) : named));
    if (!algorithm) continue;
    const qops = (params.qop ?? '').split(',').map((q) => q.trim().toLowerCase());
    const qop = qops.includes('auth') ? 'auth' : qops.includes('auth-int') ? 'auth-int' : params.qop === undefined ? null : undefined;
    if (qop === undefined) continue;
    if (best && ALGORITHMS.indexOf(best.algorithm) <= ALGORITHMS.indexOf(algorithm)) continue;
    best = {
      realm: params.realm,
      nonce: params.nonce,
      ...(params.opaque === undefined ? {} : { opaque: params.opaque }),
      algorithm,
      session,
      qop,
      userhash: params.userhash?.toLowerCase() === 'true',
    };
  }
  if (best) return best;
  return { unsupported: offered.length > 0 ? `digest algorithm ${offered.join(', ')} is not supported` : 'no Digest challenge' };
}

/**
 * The Authorization header answering a Digest challenge (RFC 7616 section 3.4): the response is
 * H(H(A1):nonce:nc:cnonce:qop:H(A2)), with H the challenge's algorithm, A1 = user:realm:password (for a
 * -sess algorithm, H(that):nonce:cnonce) and A2 = method:uri (with auth-int, :H(body) too).
 */
export function digestAuthorization(
  challenge: DigestChallenge,
  request: { method: string; uri: string; username: string; password: string; body?: string | undefined },
  cnonce: string = randomBytes(16).toString('hex'),
): string {
  const h = (s: string) => createHash(HASH[challenge.algorithm]).update(s, 'utf8').digest('hex');
  const nc = '00000001';
  let ha1 = h(`${request.username}:${challenge.realm}:${request.password}`);
  if (challenge.session) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const a2 =
    challenge.qop === 'auth-int' ? `${request.method}:${request.uri}:${h(request.body ?? '')}` : `${request.method}:${request.uri}`;
  const response = challenge.qop
    ? h(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:${challenge.qop}:${h(a2)}`)
    : h(`${ha1}:${challenge.nonce}:${h(a2)}`);
  const quote = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
  const username = challenge.userhash ? h(`${request.username}:${challenge.realm}`) : request.username;
  const fields = [
    `username=${quote(username)}`,
    `realm=${quote(challenge.realm)}`,
    `uri=${quote(request.uri)}`,
    `algorithm=${challenge.algorithm}${challenge.session ? '-sess' : ''}`,
    `nonce=${quote(challenge.nonce)}`,
    ...(challenge.qop ? [`nc=${nc}`, `cnonce=${quote(cnonce)}`, `qop=${challenge.qop}`] : []),
    `response=${quote(response)}`,
    ...(challenge.opaque === undefined ? [] : [`opaque=${quote(challenge.opaque)}`]),
    ...(challenge.userhash ? ['userhash=true'] : []),
  ];
  return `Digest ${fields.join(', ')}`;
}
