import { Secret, TOTP } from 'otpauth'
import type { Random } from '../lib/random.js'

/** RFC 6238 as SPEC §12 fixes it: SHA-1, 6 digits, 30-second steps, one step either side. */
const PERIOD_SECONDS = 30
const DIGITS = 6
const WINDOW_STEPS = 1
/** RFC 4226 §4: at least 128 bits of secret, 160 recommended. */
const SECRET_BYTES = 20
const CODE_PATTERN = /^\d{6}$/

/** A new TOTP secret, base32 (RFC 4648) as authenticator apps take it. */
export function generateTotpSecret(random: Random): string {
  return new Secret({ buffer: new Uint8Array(random.bytes(SECRET_BYTES)).buffer }).base32
}

function totpOf(secretBase32: string, issuer: string, label: string): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  })
}

/** The `otpauth://totp/...` URI an authenticator app scans (Key Uri Format). */
export function totpUri(secretBase32: string, issuer: string, accountName: string): string {
  return totpOf(secretBase32, issuer, accountName).toString()
}

/**
 * The time step `code` belongs to, when it is the code of the step at `now` or one step either
 * side; undefined otherwise. The caller accepts a step only once (and none before the last).
 */
export function matchTotp(secretBase32: string, code: string, now: Date): number | undefined {
  if (!CODE_PATTERN.test(code)) return undefined
  const timestamp = now.getTime()
  const delta = totpOf(secretBase32, 'users-core', 'user').validate({
    token: code,
    timestamp,
    window: WINDOW_STEPS,
  })
  if (delta === null) return undefined
  return TOTP.counter({ period: PERIOD_SECONDS, timestamp }) + delta
}
