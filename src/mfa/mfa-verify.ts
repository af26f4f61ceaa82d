import type { CoreDeps } from '../core-deps.js'
import type { MfaFactorRecord, MfaTokenRecord, UserRecord } from '../domain/records.js'
import type { MfaFactorUse } from '../domain/store.js'
import { UsersError } from '../errors.js'
import { constantTimeEqual } from '../lib/constant-time.js'
import { recordCountedFailure } from '../lockout/counted-failure.js'
import type { SessionService } from '../sessions/session-service.js'
import type { MfaMethod, MfaVerifyInput, RequestContext, TokenResponse } from '../types.js'
import { amrOf } from './amr.js'
import { totpSealContext } from './mfa-service.js'
import { mfaTokenHash } from './mfa-token.js'
import { hashRecoveryCode } from './recovery-codes.js'
import { relyingParty } from './relying-party.js'
import { matchTotp } from './totp.js'
import { type AuthenticationResponseJSON, verifyAssertion } from './webauthn.js'

const METHODS: readonly MfaMethod[] = ['totp', 'recovery_code', 'webauthn']
/** Longer than any code of ours: refused before any work. */
const MAX_CODE_LENGTH = 64

/** What a second factor proved: its one-time use, or why it proved nothing. */
type FactorCheck = { use: MfaFactorUse; remainingCodes?: number } | { failed: string }

/**
 * The second step of a login (SPEC §12, `POST /auth/mfa/verify`): the `mfa_token` must be
 * unused, unexpired and presented from the IP it was issued to; the lockout of (username, IP) is
 * checked before any work and every wrong code counts toward it, like a wrong password.
 */
export function createMfaVerifier(
  deps: CoreDeps,
  sessions: Pick<SessionService, 'completeMfaLogin'>,
) {
  const { store, clock, lockout, sealer } = deps
  const rp = relyingParty(deps.config)
  const invalidToken = () =>
    new UsersError('INVALID_TOKEN', { message: 'The mfa_token is invalid, used or expired.' })

  function validInput(input: MfaVerifyInput): void {
    const ok =
      typeof input === 'object' &&
      input !== null &&
      typeof input.mfaToken === 'string' &&
      METHODS.includes(input.method) &&
      (input.method === 'webauthn'
        ? typeof input.assertion === 'object' && input.assertion !== null
        : typeof input.code === 'string' && input.code.length <= MAX_CODE_LENGTH)
    if (!ok) {
      throw new UsersError('VALIDATION_ERROR', {
        message: 'mfa_token, a method and its code (or assertion) are required.',
      })
    }
  }

  async function pendingLogin(tokenHash: string, ctx: RequestContext | undefined) {
    const now = clock.now()
    const token = await store.findMfaToken(tokenHash)
    if (
      !token ||
      token.consumedAt !== null ||
      token.expiresAt.getTime() <= now.getTime() ||
      token.ip !== (ctx?.ip ?? null)
    ) {
      throw invalidToken()
    }
    const user = await store.findUserById(token.userId)
    if (!user?.active) throw invalidToken()
    return { token, user, now }
  }

  async function checkTotp(user: UserRecord, code: string, now: Date): Promise<FactorCheck> {
    const factor = (await store.listMfaFactors(user.id)).find(
      (f) => f.type === 'totp' && f.status === 'confirmed',
    )
    if (!factor?.totpSecretSealed) return { failed: 'no_totp' }
    const secret = sealer.open(factor.totpSecretSealed, totpSealContext(user.id, factor.id))
    const step = matchTotp(secret.toString('utf8'), code, now)
    if (step === undefined) return { failed: 'wrong_code' }
    // A code of a step already used (or older) is a replay, even inside its 90-second window.
    if (factor.totpLastStep !== null && step <= factor.totpLastStep) return { failed: 'code_used' }
    return { use: { kind: 'totp', factorId: factor.id, step } }
  }

  async function checkRecoveryCode(user: UserRecord, code: string): Promise<FactorCheck> {
    const presented = hashRecoveryCode(code)
    const unused = await store.listUnusedRecoveryCodes(user.id)
    let match: string | undefined
    // Every stored hash is compared, in constant time each: where it matched shows in no timing.
    for (const hash of unused) if (constantTimeEqual(hash, presented)) match = hash
    if (match === undefined) return { failed: 'wrong_code' }
    return {
      use: { kind: 'recovery_code', userId: user.id, codeHash: match },
      remainingCodes: unused.length - 1,
    }
  }

  async function checkWebauthn(
    user: UserRecord,
    token: MfaTokenRecord,
    assertion: unknown,
  ): Promise<FactorCheck> {
    const response = assertion as AuthenticationResponseJSON
    const credential: MfaFactorRecord | undefined =
      typeof response.id === 'string'
        ? (await store.listMfaFactors(user.id)).find(
            (f) =>
              f.type === 'webauthn' && f.status === 'confirmed' && f.credentialId === response.id,
          )
        : undefined
    if (!credential || token.webauthnChallenge === null) return { failed: 'unknown_credential' }
    const signCount = await verifyAssertion(rp, response, token.webauthnChallenge, credential)
    if (signCount === undefined) return { failed: 'assertion_refused' }
    return { use: { kind: 'webauthn', factorId: credential.id, signCount } }
  }

  async function failed(
    user: UserRecord,
    method: MfaMethod,
    reason: string,
    ctx: RequestContext | undefined,
  ): Promise<never> {
    const failure = deps.audit.build('mfa.failed', user.id, ctx, { method, reason })
    const lock = await recordCountedFailure(deps, user, failure, ctx)
    deps.emit({ type: 'login', outcome: lock.locked ? 'locked' : 'failed' })
    if (lock.locked) {
      throw new UsersError('ACCOUNT_LOCKED', { retryAfterSeconds: lock.retryAfterSeconds })
    }
    throw new UsersError('INVALID_CREDENTIALS', { message: 'The code is not valid.' })
  }

  async function verify(input: MfaVerifyInput, ctx?: RequestContext): Promise<TokenResponse> {
    validInput(input)
    const tokenHash = mfaTokenHash(input.mfaToken)
    if (tokenHash === undefined) throw invalidToken()
    const { token, user, now } = await pendingLogin(tokenHash, ctx)
    try {
      await lockout.assertNotLocked(user.username, ctx?.ip)
    } catch (error) {
      deps.emit({ type: 'login', outcome: 'locked' })
      throw error
    }
    const check =
      input.method === 'webauthn'
        ? await checkWebauthn(user, token, input.assertion)
        : input.method === 'totp'
          ? await checkTotp(user, input.code, now)
          : await checkRecoveryCode(user, input.code)
    if ('failed' in check) return failed(user, input.method, check.failed, ctx)
    const { method } = input
    const result = await sessions.completeMfaLogin(
      user,
      tokenHash,
      check.use,
      amrOf(method),
      (sessionId) => {
        const events = [
          deps.audit.build('user.login.succeeded', user.id, ctx, { session_id: sessionId, method }),
          deps.audit.build('mfa.succeeded', user.id, ctx, { session_id: sessionId, method }),
        ]
        if (check.remainingCodes !== undefined) {
          events.push(
            deps.audit.build('mfa.recovery_code_used', user.id, ctx, {
              remaining: check.remainingCodes,
            }),
          )
        }
        return events
      },
      ctx,
    )
    if (result === 'token_used') throw invalidToken()
    if (result === 'factor_used') return failed(user, method, 'code_used', ctx)
    return result
  }

  return { verify }
}
