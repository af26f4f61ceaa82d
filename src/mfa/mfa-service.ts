import type { CoreDeps } from '../core-deps.js'
import type { MfaFactorRecord, UserRecord } from '../domain/records.js'
import type { RevokeOtherSessions } from '../domain/store.js'
import { UsersError } from '../errors.js'
import { sha256Hex } from '../lib/constant-time.js'
import type {
  FactorConfirmation,
  MfaFactor,
  MfaStatus,
  RequestContext,
  TotpEnrolment,
} from '../types.js'
import { generateRecoveryCodes, hashRecoveryCode } from './recovery-codes.js'
import { relyingParty } from './relying-party.js'
import { generateTotpSecret, matchTotp, totpUri } from './totp.js'
import {
  challengeOf,
  type RegistrationResponseJSON,
  registrationOptions,
  verifyRegistration,
  WEBAUTHN_TIMEOUT_MS,
} from './webauthn.js'

/** The sealer context of a TOTP secret: it opens only on its own user's own factor row. */
export const totpSealContext = (userId: string, factorId: string) => `totp:${userId}:${factorId}`

/** A factor as its owner and admins see it: never its secret or key. */
export function toMfaFactor(f: MfaFactorRecord): MfaFactor {
  return { id: f.id, type: f.type, name: f.name, createdAt: f.createdAt, lastUsedAt: f.lastUsedAt }
}

/**
 * Enrolment and removal of second factors and recovery codes (SPEC §12). Every change is audited
 * in its own transaction; secrets are returned once and kept sealed (TOTP) or hashed (codes).
 */
export function createMfaService(deps: CoreDeps) {
  const { store, clock, random, config, sealer } = deps
  const rp = relyingParty(config)
  const notFound = (what: string) => new UsersError('NOT_FOUND', { message: `No such ${what}.` })

  async function userOf(userId: string): Promise<UserRecord> {
    const user = await store.findUserById(userId)
    if (!user) throw notFound('user')
    return user
  }

  /** Revoke the user's sessions but the caller's own (when the caller is that user). */
  function othersOf(userId: string, ctx: RequestContext | undefined): RevokeOtherSessions {
    const own = ctx?.actor?.user.id === userId ? ctx.actor.sessionId : undefined
    return { at: clock.now(), keepSessionId: own }
  }

  /** A fresh set of codes when the user holds none (their first factor), else null. */
  async function codesForFirstFactor(userId: string): Promise<string[] | undefined> {
    const unused = await store.listUnusedRecoveryCodes(userId)
    return unused.length === 0 ? generateRecoveryCodes(random) : undefined
  }

  async function status(userId: string): Promise<MfaStatus> {
    await userOf(userId)
    const factors = (await store.listMfaFactors(userId)).filter((f) => f.status === 'confirmed')
    const codes = factors.length > 0 ? await store.listUnusedRecoveryCodes(userId) : []
    return {
      enabled: factors.length > 0,
      factors: factors.map(toMfaFactor),
      recoveryCodesRemaining: codes.length,
    }
  }

  // A pending enrolment is not audited: `mfa.enrolled` is written when a code confirms it.
  async function enrollTotp(userId: string): Promise<TotpEnrolment> {
    const user = await userOf(userId)
    const factors = await store.listMfaFactors(userId)
    if (factors.some((f) => f.type === 'totp' && f.status === 'confirmed')) {
      throw new UsersError('CONFLICT', {
        message: 'TOTP is already enrolled; remove it first to enrol a new one.',
        details: { field: 'totp' },
      })
    }
    const id = random.uuid()
    const secret = generateTotpSecret(random)
    await store.insertMfaFactor(
      {
        id,
        userId,
        type: 'totp',
        name: null,
        status: 'pending',
        totpSecretSealed: sealer.seal(secret, totpSealContext(userId, id)),
        totpLastStep: null,
        credentialId: null,
        publicKey: null,
        signCount: null,
        transports: [],
        createdAt: clock.now(),
        confirmedAt: null,
        lastUsedAt: null,
      },
      [],
    )
    return { secret, otpauthUri: totpUri(secret, config.mfa.issuer, user.username) }
  }

  async function confirmTotp(
    userId: string,
    code: string,
    ctx?: RequestContext,
  ): Promise<FactorConfirmation> {
    await userOf(userId)
    const pending = (await store.listMfaFactors(userId)).find(
      (f) => f.type === 'totp' && f.status === 'pending',
    )
    if (!pending?.totpSecretSealed) throw notFound('pending TOTP enrolment')
    const secret = sealer.open(pending.totpSecretSealed, totpSealContext(userId, pending.id))
    const now = clock.now()
    const step = matchTotp(secret.toString('utf8'), code, now)
    if (step === undefined) {
      throw new UsersError('INVALID_CREDENTIALS', { message: 'The code is not valid.' })
    }
    const codes = await codesForFirstFactor(userId)
    const confirmed = await store.confirmMfaFactor(
      pending.id,
      {
        at: now,
        totpLastStep: step,
        ...(codes ? { recoveryCodeHashes: codes.map(hashRecoveryCode) } : {}),
      },
      [deps.audit.build('mfa.enrolled', userId, ctx, { factor_id: pending.id, type: 'totp' })],
    )
    if (!confirmed) throw notFound('pending TOTP enrolment')
    return {
      factor: toMfaFactor({ ...pending, status: 'confirmed', confirmedAt: now }),
      recoveryCodes: codes ?? null,
    }
  }

  async function removeFactor(userId: string, factorId: string, ctx?: RequestContext) {
    const factor = (await store.listMfaFactors(userId)).find((f) => f.id === factorId)
    if (!factor) throw notFound('factor')
    const remaining = await store.deleteMfaFactor(userId, factorId, othersOf(userId, ctx), [
      deps.audit.build('mfa.removed', userId, ctx, {
        factor_id: factorId,
        type: factor.type,
        ...(factor.status === 'pending' ? { pending: true } : {}),
      }),
    ])
    if (remaining === undefined) throw notFound('factor')
  }

  async function removeTotp(userId: string, ctx?: RequestContext): Promise<void> {
    const totp = (await store.listMfaFactors(userId)).find((f) => f.type === 'totp')
    if (!totp) throw notFound('TOTP factor')
    await removeFactor(userId, totp.id, ctx)
  }

  async function webauthnRegistrationOptions(userId: string): Promise<Record<string, unknown>> {
    const user = await userOf(userId)
    const keys = (await store.listMfaFactors(userId)).filter((f) => f.type === 'webauthn')
    const options = await registrationOptions(rp, user, keys)
    await store.insertWebauthnChallenge(
      sha256Hex(options.challenge),
      userId,
      new Date(clock.now().getTime() + WEBAUTHN_TIMEOUT_MS),
    )
    return { ...options }
  }

  async function registerWebauthn(
    userId: string,
    input: { response: unknown; name?: string | null },
    ctx?: RequestContext,
  ): Promise<FactorConfirmation> {
    await userOf(userId)
    const response = input.response as RegistrationResponseJSON
    const challenge = challengeOf(response)
    const refused = () =>
      new UsersError('INVALID_CREDENTIALS', {
        message: 'The WebAuthn registration did not verify.',
      })
    // The challenge is spent before the signature is checked: each one is tried once.
    if (
      challenge === undefined ||
      !(await store.consumeWebauthnChallenge(sha256Hex(challenge), userId, clock.now()))
    ) {
      throw refused()
    }
    const credential = await verifyRegistration(rp, response, challenge)
    if (!credential) throw refused()
    const now = clock.now()
    const codes = await codesForFirstFactor(userId)
    const factor: MfaFactorRecord = {
      id: random.uuid(),
      userId,
      type: 'webauthn',
      name: input.name ?? null,
      status: 'confirmed',
      totpSecretSealed: null,
      totpLastStep: null,
      credentialId: credential.credentialId,
      publicKey: credential.publicKey,
      signCount: credential.signCount,
      transports: credential.transports,
      createdAt: now,
      confirmedAt: now,
      lastUsedAt: null,
    }
    await store.insertMfaFactor(
      factor,
      [deps.audit.build('mfa.enrolled', userId, ctx, { factor_id: factor.id, type: 'webauthn' })],
      codes?.map(hashRecoveryCode),
    )
    return { factor: toMfaFactor(factor), recoveryCodes: codes ?? null }
  }

  async function regenerateRecoveryCodes(userId: string, ctx?: RequestContext): Promise<string[]> {
    const factors = (await store.listMfaFactors(userId)).filter((f) => f.status === 'confirmed')
    if (factors.length === 0) {
      await userOf(userId)
      throw new UsersError('CONFLICT', {
        message: 'Recovery codes need a confirmed second factor first.',
        details: { field: 'factors' },
      })
    }
    const codes = generateRecoveryCodes(random)
    await store.replaceRecoveryCodes(userId, codes.map(hashRecoveryCode), othersOf(userId, ctx), [
      deps.audit.build('mfa.enrolled', userId, ctx, { type: 'recovery_codes' }),
    ])
    return codes
  }

  return {
    status,
    enrollTotp,
    confirmTotp,
    removeTotp,
    webauthnRegistrationOptions,
    registerWebauthn,
    removeFactor,
    regenerateRecoveryCodes,
  }
}
