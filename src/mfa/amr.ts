import type { MfaMethod } from '../types.js'

/** RFC 8176 methods per second factor: a recovery code is a one-time password too. */
const SECOND_FACTOR_AMR: Readonly<Record<MfaMethod, string>> = {
  totp: 'otp',
  recovery_code: 'otp',
  webauthn: 'hwk',
}

/** The `amr` of a login that passed the password and then `method`. */
export function amrOf(method: MfaMethod): string[] {
  return ['pwd', SECOND_FACTOR_AMR[method]]
}
