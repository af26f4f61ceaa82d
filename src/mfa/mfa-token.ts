import { sha256Hex } from '../lib/constant-time.js'
import type { Random } from '../lib/random.js'

/** SPEC §12: the second step of a login must follow within 5 minutes. */
export const MFA_TOKEN_TTL_SECONDS = 300
const PREFIX = 'mfa_'
const SECRET_BYTES = 32
const TOKEN_PATTERN = /^mfa_[A-Za-z0-9_-]{43}$/

/** A new opaque `mfa_token` (256 random bits); only its {@link mfaTokenHash} is stored. */
export function createMfaToken(random: Random): string {
  return `${PREFIX}${random.bytes(SECRET_BYTES).toString('base64url')}`
}

/** The stored form of a token, or undefined when it cannot be one of ours (nothing to look up). */
export function mfaTokenHash(token: string): string | undefined {
  return TOKEN_PATTERN.test(token) ? sha256Hex(token) : undefined
}
