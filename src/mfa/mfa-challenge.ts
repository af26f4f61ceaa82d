import type { CoreDeps } from '../core-deps.js'
import type { MfaFactorRecord, UserRecord } from '../domain/records.js'
import { UsersError } from '../errors.js'
import type { MfaChallengeDetails, MfaMethod, RequestContext } from '../types.js'
import { createMfaToken, MFA_TOKEN_TTL_SECONDS, mfaTokenHash } from './mfa-token.js'
import { relyingParty } from './relying-party.js'
import { authenticationOptions } from './webauthn.js'

/**
 * The turn a login takes after a right password for a user with a confirmed factor (SPEC §12):
 * no token, but an opaque single-use `mfa_token` bound to the user and the client IP.
 */
export function createMfaChallenger(deps: CoreDeps) {
  const { store, clock, random } = deps
  const rp = relyingParty(deps.config)

  /** The user's confirmed factors; none means the login needs no second step. */
  async function confirmedFactors(userId: string): Promise<MfaFactorRecord[]> {
    return (await store.listMfaFactors(userId)).filter((f) => f.status === 'confirmed')
  }

  /** Stores a new `mfa_token` and throws MFA_REQUIRED carrying it and the methods. */
  async function requireSecondFactor(
    user: UserRecord,
    factors: readonly MfaFactorRecord[],
    ctx: RequestContext | undefined,
  ): Promise<never> {
    const now = clock.now()
    const token = createMfaToken(random)
    const keys = factors.filter((f) => f.type === 'webauthn')
    const webauthn = keys.length > 0 ? await authenticationOptions(rp, keys) : undefined
    await store.insertMfaToken({
      tokenHash: mfaTokenHash(token) as string,
      userId: user.id,
      ip: ctx?.ip ?? null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + MFA_TOKEN_TTL_SECONDS * 1000),
      consumedAt: null,
      webauthnChallenge: webauthn?.challenge ?? null,
    })
    const methods: MfaMethod[] = []
    if (factors.some((f) => f.type === 'totp')) methods.push('totp')
    if (webauthn) methods.push('webauthn')
    if ((await store.listUnusedRecoveryCodes(user.id)).length > 0) methods.push('recovery_code')
    const details: MfaChallengeDetails = {
      mfa_token: token,
      methods,
      expires_in: MFA_TOKEN_TTL_SECONDS,
      ...(webauthn ? { webauthn: { ...webauthn } } : {}),
    }
    throw new UsersError('MFA_REQUIRED', { details })
  }

  return { confirmedFactors, requireSecondFactor }
}

/** The challenger's shape. */
export type MfaChallenger = ReturnType<typeof createMfaChallenger>
