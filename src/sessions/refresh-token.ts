import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto'
import type { Random } from '../lib/random.js'

// A refresh token is `<session id>.<256-bit secret>`: the id finds the session row by primary key,
// the secret is checked against the stored SHA-256 (SPEC §4.3; Lucia's id + secret pattern).

const SECRET_BYTES = 32
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const SECRET = /^[A-Za-z0-9_-]{43}$/

/** Makes a new refresh token for a session. */
export function createRefreshToken(sessionId: string, random: Random): string {
  return `${sessionId}.${random.bytes(SECRET_BYTES).toString('base64url')}`
}

/** Splits a presented token; undefined when it is not of our shape (no database work then). */
export function parseRefreshToken(token: unknown): { sessionId: string } | undefined {
  if (typeof token !== 'string' || token.length !== 36 + 1 + 43) return undefined
  const sessionId = token.slice(0, 36)
  if (!UUID.test(sessionId) || token[36] !== '.' || !SECRET.test(token.slice(37))) return undefined
  return { sessionId }
}

const SEAL_INFO = 'users-core refresh-token seal v1'
/** HKDF's last input: the info, then the counter of its first and only output block. */
const SEAL_EXPAND_INPUT = Buffer.concat([Buffer.from(SEAL_INFO, 'utf8'), Buffer.of(1)])

/**
 * The seal key: HKDF-SHA256 (RFC 5869) of the previous token, salted with the session id, 32
 * bytes — the same bytes as `hkdfSync('sha256', previousToken, sessionId, SEAL_INFO, 32)`,
 * spelled as its two HMACs (extract, one expand block) because they are cheaper on every grant.
 * `refresh-token.test.ts` pins the equality.
 */
export function sealKey(previousToken: string, sessionId: string): Buffer {
  const prk = createHmac('sha256', sessionId).update(previousToken).digest()
  return createHmac('sha256', prk).update(SEAL_EXPAND_INPUT).digest()
}

/**
 * Seals the new token under a key derived from the token it replaces, so that within the grace
 * period whoever presents the old token gets the same new one, while the database alone (which
 * holds only hashes) cannot produce any usable token.
 */
export function sealRefreshToken(
  newToken: string,
  previousToken: string,
  sessionId: string,
  random: Random,
): string {
  const iv = random.bytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealKey(previousToken, sessionId), iv)
  const body = Buffer.concat([cipher.update(newToken, 'utf8'), cipher.final()])
  return ['v1', iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.')
}

/** Opens a sealed token with the previous token; undefined when it does not open. */
export function openRefreshToken(
  sealed: string,
  previousToken: string,
  sessionId: string,
): string | undefined {
  const [version, iv, tag, body] = sealed.split('.')
  if (version !== 'v1' || !iv || !tag || !body) return undefined
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      sealKey(previousToken, sessionId),
      Buffer.from(iv, 'base64url'),
    )
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([
      decipher.update(Buffer.from(body, 'base64url')),
      decipher.final(),
    ]).toString('utf8')
  } catch {
    return undefined
  }
}
