import { createHash } from 'node:crypto'

// HTTP digest as SIP uses it: RFC 2617 (MD5, qop=auth), RFC 7616 (SHA-256, SHA-512-256, the
// `-sess` forms), RFC 8760 (the same algorithms in SIP). `qop=auth-int` needs the message body,
// which a registrar does not forward, so it is not offered.

/** The base hash functions of a stored HA1. */
export const HA1_ALGORITHMS = ['MD5', 'SHA-256', 'SHA-512-256'] as const
/** A base hash function of a stored HA1. */
export type Ha1Algorithm = (typeof HA1_ALGORITHMS)[number]

/** Every `algorithm` a digest response may name: the base ones and their `-sess` forms. */
export const DIGEST_ALGORITHMS = [
  'MD5',
  'MD5-sess',
  'SHA-256',
  'SHA-256-sess',
  'SHA-512-256',
  'SHA-512-256-sess',
] as const
/** An `algorithm` of a digest response. */
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number]

const NODE_HASH: Record<Ha1Algorithm, string> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
}

/** The hash of `value` under `algorithm`, lower-case hex (RFC 7616 §3.4 `H`). */
export function digestHash(algorithm: Ha1Algorithm, value: string): string {
  return createHash(NODE_HASH[algorithm]).update(value, 'utf8').digest('hex')
}

/** The base hash function of a digest algorithm (`SHA-256-sess` → `SHA-256`). */
export function baseAlgorithm(algorithm: DigestAlgorithm): Ha1Algorithm {
  return algorithm.replace(/-sess$/, '') as Ha1Algorithm
}

/** HA1 = H(username:realm:secret) (RFC 7616 §3.4.2, without the `-sess` step). */
export function computeHa1(
  algorithm: Ha1Algorithm,
  username: string,
  realm: string,
  secret: string,
): string {
  return digestHash(algorithm, `${username}:${realm}:${secret}`)
}

/** The fields of a digest response that enter the computation. */
export interface DigestChallengeResponse {
  algorithm: DigestAlgorithm
  method: string
  uri: string
  nonce: string
  qop?: 'auth' | undefined
  nc?: string | undefined
  cnonce?: string | undefined
}

/**
 * The `response` a client holding `ha1` (the stored H(username:realm:secret)) must send, RFC 7616
 * §3.4.1: with `qop=auth` H(HA1:nonce:nc:cnonce:qop:HA2), without qop (RFC 2069 compatibility)
 * H(HA1:nonce:HA2); `-sess` first turns HA1 into H(HA1:nonce:cnonce).
 */
export function expectedResponse(ha1: string, r: DigestChallengeResponse): string {
  const h = baseAlgorithm(r.algorithm)
  const sessionHa1 = r.algorithm.endsWith('-sess')
    ? digestHash(h, `${ha1}:${r.nonce}:${r.cnonce ?? ''}`)
    : ha1
  const ha2 = digestHash(h, `${r.method}:${r.uri}`)
  return r.qop === 'auth'
    ? digestHash(h, `${sessionHa1}:${r.nonce}:${r.nc ?? ''}:${r.cnonce ?? ''}:auth:${ha2}`)
    : digestHash(h, `${sessionHa1}:${r.nonce}:${ha2}`)
}
