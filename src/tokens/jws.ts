import { type KeyObject, sign, verify } from 'node:crypto'
import type { SigningAlgorithm } from '../domain/records.js'

/** What signs a JWS: the key id for the header, its algorithm and the parsed private key. */
export interface JwsSigner {
  kid: string
  algorithm: SigningAlgorithm
  privateKey: KeyObject
}

/** The protected header of every token users-core signs (SPEC §4.1), exactly these members. */
export interface JwtHeader {
  alg: SigningAlgorithm
  typ: 'JWT'
  kid: string
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/** node:crypto's digest and key argument for each JWS algorithm. */
function signingParams(signer: JwsSigner) {
  switch (signer.algorithm) {
    case 'RS256': // RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), node's RSA default padding
      return { digest: 'sha256', key: signer.privateKey }
    case 'ES256': // JWS wants r||s, not DER (RFC 7518 §3.4)
      return {
        digest: 'sha256',
        key: { key: signer.privateKey, dsaEncoding: 'ieee-p1363' as const },
      }
    case 'EdDSA': // Ed25519 hashes internally (RFC 8037 §3.1)
      return { digest: null, key: signer.privateKey }
  }
}

function signingInputOf(payload: object, signer: JwsSigner): string {
  const header: JwtHeader = { alg: signer.algorithm, typ: 'JWT', kid: signer.kid }
  return `${encodeJson(header)}.${encodeJson(payload)}`
}

/** Signs `payload` as a compact JWS (RFC 7515 §7.1) on the calling thread. */
export function signCompactJws(payload: object, signer: JwsSigner): string {
  const input = signingInputOf(payload, signer)
  const { digest, key } = signingParams(signer)
  return `${input}.${sign(digest, Buffer.from(input, 'ascii'), key).toString('base64url')}`
}

/**
 * Signs `payload` as a compact JWS on libuv's thread pool (node:crypto's callback form): RSA
 * signatures cost a third of a millisecond, and on the pool they use every core without holding
 * the event loop. Password hashes run on their own threads, so signing never waits behind them.
 */
export function signCompactJwsAsync(payload: object, signer: JwsSigner): Promise<string> {
  const input = signingInputOf(payload, signer)
  const { digest, key } = signingParams(signer)
  return new Promise((resolve, reject) => {
    sign(digest, Buffer.from(input, 'ascii'), key, (error, signature) => {
      if (error) reject(error)
      else resolve(`${input}.${signature.toString('base64url')}`)
    })
  })
}

/** A public key that may verify tokens naming its kid, with the one algorithm it is for. */
export interface JwsVerifier {
  algorithm: SigningAlgorithm
  publicKey: KeyObject
}

const SEGMENT = /^[A-Za-z0-9_-]*$/
// The last character's value, by how many characters the segment has modulo 4 (RFC 4648 §3.5):
// with 2 the low 4 bits are unused, with 3 the low 2; they must be zero, so each token has one
// spelling. A length of 1 modulo 4 encodes no whole byte.
const LAST_CHARACTER = /[AQgw]$/
const LAST_OF_THREE = /[AEIMQUYcgkosw048]$/

/** True when `segment` is base64url (no padding) in its one canonical spelling. */
function isCanonicalSegment(segment: string): boolean {
  if (!SEGMENT.test(segment)) return false
  switch (segment.length % 4) {
    case 0:
      return true
    case 2:
      return LAST_CHARACTER.test(segment)
    case 3:
      return LAST_OF_THREE.test(segment)
    default:
      return false
  }
}

/** Decodes one base64url JSON segment into an object, or undefined. */
function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * Verifies a compact JWS with synchronous node:crypto and returns its payload, or undefined when
 * anything is off: shape, header (`typ` must be JWT, no `crit`, a known `kid` whose key is for
 * exactly the header's `alg` — so `none` and HS256-with-the-public-key never verify), or the
 * signature (RFC 7515 §5.2). Every segment must be canonical base64url, so a token has one string. Synchronous so that verification never queues on libuv's pool.
 */
export function verifyCompactJws(
  token: string,
  keys: ReadonlyMap<string, JwsVerifier>,
): Record<string, unknown> | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
  if (
    !isCanonicalSegment(headerPart) ||
    !isCanonicalSegment(payloadPart) ||
    !isCanonicalSegment(signaturePart)
  ) {
    return undefined
  }
  const header = decodeJsonObject(headerPart)
  if (header?.typ !== 'JWT' || header.crit !== undefined) return undefined
  if (typeof header.kid !== 'string' || typeof header.alg !== 'string') return undefined
  const key = keys.get(header.kid)
  if (!key || key.algorithm !== header.alg) return undefined
  const data = Buffer.from(`${headerPart}.${payloadPart}`, 'ascii')
  const signature = Buffer.from(signaturePart, 'base64url')
  let valid: boolean
  switch (key.algorithm) {
    case 'RS256':
      valid = verify('sha256', data, key.publicKey, signature)
      break
    case 'ES256':
      valid =
        signature.length === 64 &&
        verify('sha256', data, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature)
      break
    case 'EdDSA':
      valid = verify(null, data, key.publicKey, signature)
      break
  }
  return valid ? decodeJsonObject(payloadPart) : undefined
}
