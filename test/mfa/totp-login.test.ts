import { createLocalJWKSet, jwtVerify } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isUsersError, type UsersError } from '../../src/errors.js'
import type { ManualClock } from '../../src/lib/clock.js'
import type { MfaChallengeDetails, UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'
import { totpAt } from './rfc6238.js'

const ctx = { ip: '192.0.2.10', userAgent: 'vitest' }

/** The MFA_REQUIRED challenge of a right password, or a failure if the login did not ask. */
async function challenge(core: UsersCore, username = 'alice'): Promise<MfaChallengeDetails> {
  const error = await core.authenticatePassword(username, GOOD_PASSWORD, ctx).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isUsersError(error, 'MFA_REQUIRED')).toBe(true)
  return (error as UsersError).details as MfaChallengeDetails
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => (isUsersError(e) ? e.code : String(e)),
  )
}

describe('TOTP second factor (library)', () => {
  let core: UsersCore
  let clock: ManualClock
  let userId: string
  let secret: string
  let recoveryCodes: string[]

  beforeEach(async () => {
    ;({ core, clock } = await createTestCore({ mfa: { issuer: 'RVoIP Test' } }))
    userId = (await core.createUser({ username: 'alice', password: GOOD_PASSWORD })).id
    const enrolment = await core.mfa.enrollTotp(userId, ctx)
    secret = enrolment.secret
    const uri = new URL(enrolment.otpauthUri)
    expect(uri.protocol).toBe('otpauth:')
    expect(uri.host).toBe('totp')
    expect(uri.searchParams.get('secret')).toBe(secret)
    expect(uri.searchParams.get('issuer')).toBe('RVoIP Test')
    expect(uri.searchParams.get('digits')).toBe('6')
    expect(uri.searchParams.get('period')).toBe('30')
    expect(uri.searchParams.get('algorithm')).toBe('SHA1')
    // Pending: a password still logs straight in until a code confirms the enrolment.
    await expect(core.authenticatePassword('alice', GOOD_PASSWORD, ctx)).resolves.toHaveProperty(
      'accessToken',
    )
    expect(await codeOf(core.mfa.confirmTotp(userId, '000000', ctx))).toBe('INVALID_CREDENTIALS')
    const confirmed = await core.mfa.confirmTotp(userId, totpAt(secret, clock.now()), ctx)
    expect(confirmed.factor.type).toBe('totp')
    recoveryCodes = confirmed.recoveryCodes as string[]
    expect(recoveryCodes).toHaveLength(10)
    expect(new Set(recoveryCodes).size).toBe(10)
    // The next login takes a later step than the one that confirmed the enrolment.
    clock.advance(30_000)
  })
  afterEach(() => core.close())

  it('answers a right password with MFA_REQUIRED and finishes with a code; amr and acr verify with jose', async () => {
    const details = await challenge(core)
    expect(details.methods).toEqual(['totp', 'recovery_code'])
    expect(details.expires_in).toBe(300)
    expect(details.mfa_token).toMatch(/^mfa_[A-Za-z0-9_-]{43}$/)
    const token = await core.mfa.verify(
      { mfaToken: details.mfa_token, method: 'totp', code: totpAt(secret, clock.now()) },
      ctx,
    )
    const jwks = createLocalJWKSet(await core.jwks())
    const { payload } = await jwtVerify(token.accessToken, jwks, {
      issuer: core.config.jwt.issuer,
      audience: 'rvoip-api',
      currentDate: clock.now(),
    })
    expect(payload.amr).toEqual(['pwd', 'otp'])
    expect(payload.acr).toBe('http://schemas.openid.net/pape/policies/2007/06/multi-factor')
    expect(payload.sub).toBe(userId)

    const introspected = await core.introspect(token.accessToken)
    expect(introspected).toMatchObject({ active: true, amr: ['pwd', 'otp'], acr: payload.acr })

    // A refresh of the MFA session keeps its amr.
    const refreshed = await core.refreshToken(token.refreshToken, ctx)
    const again = await jwtVerify(refreshed.accessToken, jwks, { currentDate: clock.now() })
    expect(again.payload.amr).toEqual(['pwd', 'otp'])

    const types = (await core.audit.list({ userId })).items.map((e) => e.type)
    expect(types).toContain('mfa.enrolled')
    expect(types).toContain('mfa.succeeded')
  })

  it('refuses a code replayed inside its window, and an mfa_token used once', async () => {
    const code = totpAt(secret, clock.now())
    const first = await challenge(core)
    await core.mfa.verify({ mfaToken: first.mfa_token, method: 'totp', code }, ctx)
    const second = await challenge(core)
    expect(
      await codeOf(core.mfa.verify({ mfaToken: second.mfa_token, method: 'totp', code }, ctx)),
    ).toBe('INVALID_CREDENTIALS')
    // The first token is spent, whatever code comes with it.
    clock.advance(30_000)
    const next = totpAt(secret, clock.now())
    expect(
      await codeOf(core.mfa.verify({ mfaToken: first.mfa_token, method: 'totp', code: next }, ctx)),
    ).toBe('INVALID_TOKEN')
    const failed = (await core.audit.list({ userId, type: 'mfa.failed' })).items
    expect(failed.map((e) => e.details.reason)).toEqual(['code_used'])
  })

  it('accepts a code one step off (±30 s) and refuses three steps off (±90 s)', async () => {
    const now = clock.now()
    const ahead = totpAt(secret, new Date(now.getTime() + 30_000))
    const details = await challenge(core)
    await expect(
      core.mfa.verify({ mfaToken: details.mfa_token, method: 'totp', code: ahead }, ctx),
    ).resolves.toHaveProperty('accessToken')

    clock.advance(120_000)
    const behind = totpAt(secret, new Date(clock.now().getTime() - 30_000))
    const d2 = await challenge(core)
    await expect(
      core.mfa.verify({ mfaToken: d2.mfa_token, method: 'totp', code: behind }, ctx),
    ).resolves.toHaveProperty('accessToken')

    clock.advance(300_000)
    for (const offset of [-90_000, 90_000]) {
      const far = totpAt(secret, new Date(clock.now().getTime() + offset))
      const d = await challenge(core)
      expect(
        await codeOf(core.mfa.verify({ mfaToken: d.mfa_token, method: 'totp', code: far }, ctx)),
      ).toBe('INVALID_CREDENTIALS')
    }
  })

  it('expires the mfa_token after 5 minutes and binds it to the client IP', async () => {
    const details = await challenge(core)
    const code = () => totpAt(secret, clock.now())
    expect(
      await codeOf(
        core.mfa.verify(
          { mfaToken: details.mfa_token, method: 'totp', code: code() },
          { ...ctx, ip: '198.51.100.7' },
        ),
      ),
    ).toBe('INVALID_TOKEN')
    clock.advance(300_000)
    expect(
      await codeOf(
        core.mfa.verify({ mfaToken: details.mfa_token, method: 'totp', code: code() }, ctx),
      ),
    ).toBe('INVALID_TOKEN')
  })

  it('takes each recovery code once, in any case and spacing', async () => {
    const [code] = recoveryCodes as [string]
    const d1 = await challenge(core)
    const token = await core.mfa.verify(
      {
        mfaToken: d1.mfa_token,
        method: 'recovery_code',
        code: code.toUpperCase().replace(/-/g, ' '),
      },
      ctx,
    )
    const { payload } = await jwtVerify(token.accessToken, createLocalJWKSet(await core.jwks()), {
      currentDate: clock.now(),
    })
    expect(payload.amr).toEqual(['pwd', 'otp'])
    const d2 = await challenge(core)
    expect(
      await codeOf(core.mfa.verify({ mfaToken: d2.mfa_token, method: 'recovery_code', code }, ctx)),
    ).toBe('INVALID_CREDENTIALS')
    expect((await core.mfa.status(userId)).recoveryCodesRemaining).toBe(9)
    const used = (await core.audit.list({ userId, type: 'mfa.recovery_code_used' })).items
    expect(used.map((e) => e.details)).toEqual([{ remaining: 9 }])
  })

  it('regenerates recovery codes: the old set dies and the other sessions are revoked', async () => {
    const d1 = await challenge(core)
    const other = await core.mfa.verify(
      { mfaToken: d1.mfa_token, method: 'totp', code: totpAt(secret, clock.now()) },
      ctx,
    )
    clock.advance(30_000)
    const d2 = await challenge(core)
    const mine = await core.mfa.verify(
      { mfaToken: d2.mfa_token, method: 'totp', code: totpAt(secret, clock.now()) },
      ctx,
    )
    const actor = await core.authenticateAccessToken(mine.accessToken)
    const fresh = await core.mfa.regenerateRecoveryCodes(userId, { ...ctx, actor })
    expect(fresh).toHaveLength(10)
    await expect(core.authenticateAccessToken(other.accessToken)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    })
    await expect(core.authenticateAccessToken(mine.accessToken)).resolves.toBeDefined()
    const d3 = await challenge(core)
    expect(
      await codeOf(
        core.mfa.verify(
          { mfaToken: d3.mfa_token, method: 'recovery_code', code: recoveryCodes[1] as string },
          ctx,
        ),
      ),
    ).toBe('INVALID_CREDENTIALS')
    await expect(
      core.mfa.verify(
        { mfaToken: d3.mfa_token, method: 'recovery_code', code: fresh[0] as string },
        ctx,
      ),
    ).resolves.toHaveProperty('accessToken')
  })

  it('locks (username, IP) after max_failed_logins wrong codes, even with the right password between', async () => {
    // Failures 1-2 on one token, a fresh password login (which must not reset the count), 3-4.
    let details = await challenge(core)
    for (let i = 0; i < 4; i++) {
      if (i === 2) details = await challenge(core)
      expect(
        await codeOf(
          core.mfa.verify({ mfaToken: details.mfa_token, method: 'totp', code: '000000' }, ctx),
        ),
      ).toBe('INVALID_CREDENTIALS')
    }
    expect(
      await codeOf(
        core.mfa.verify({ mfaToken: details.mfa_token, method: 'totp', code: '000001' }, ctx),
      ),
    ).toBe('ACCOUNT_LOCKED')
    // Locked: neither the right code nor the right password gets through.
    expect(
      await codeOf(
        core.mfa.verify(
          { mfaToken: details.mfa_token, method: 'totp', code: totpAt(secret, clock.now()) },
          ctx,
        ),
      ),
    ).toBe('ACCOUNT_LOCKED')
    expect(await codeOf(core.authenticatePassword('alice', GOOD_PASSWORD, ctx))).toBe(
      'ACCOUNT_LOCKED',
    )
  })

  it('lets exactly one of two parallel verifies with one mfa_token through', async () => {
    const details = await challenge(core)
    const code = totpAt(secret, clock.now())
    const recovery = recoveryCodes[0] as string
    const results = await Promise.allSettled([
      core.mfa.verify({ mfaToken: details.mfa_token, method: 'totp', code }, ctx),
      core.mfa.verify(
        { mfaToken: details.mfa_token, method: 'recovery_code', code: recovery },
        ctx,
      ),
    ])
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(refused.reason.code).toBe('INVALID_TOKEN')
    // The session of the password-only login before the enrolment, and the winner's.
    expect((await core.sessions.list(userId)).length).toBe(2)
    // The loser's one-time use rolled back with it: its code still works on a new login.
    const totpWon = results[0]?.status === 'fulfilled'
    expect((await core.mfa.status(userId)).recoveryCodesRemaining).toBe(totpWon ? 10 : 9)
    const next = await challenge(core)
    await expect(
      core.mfa.verify(
        totpWon
          ? { mfaToken: next.mfa_token, method: 'recovery_code', code: recovery }
          : { mfaToken: next.mfa_token, method: 'totp', code },
        ctx,
      ),
    ).resolves.toHaveProperty('accessToken')
  })

  it('dropping a pending enrolment of a user without MFA revokes nothing', async () => {
    const bob = await core.createUser({ username: 'bob', password: GOOD_PASSWORD })
    const session = await core.authenticatePassword('bob', GOOD_PASSWORD, ctx)
    await core.mfa.enrollTotp(bob.id)
    await core.mfa.removeTotp(bob.id, ctx)
    await expect(core.authenticateAccessToken(session.accessToken)).resolves.toBeDefined()
  })

  it('removing the last factor turns MFA off, drops the recovery codes and revokes sessions', async () => {
    const d = await challenge(core)
    const session = await core.mfa.verify(
      { mfaToken: d.mfa_token, method: 'totp', code: totpAt(secret, clock.now()) },
      ctx,
    )
    await core.mfa.removeTotp(userId, ctx)
    expect(await core.mfa.status(userId)).toEqual({
      enabled: false,
      factors: [],
      recoveryCodesRemaining: 0,
    })
    await expect(core.authenticateAccessToken(session.accessToken)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    })
    const login = await core.authenticatePassword('alice', GOOD_PASSWORD, ctx)
    const { payload } = await jwtVerify(login.accessToken, createLocalJWKSet(await core.jwks()), {
      currentDate: clock.now(),
    })
    expect(payload.amr).toBeUndefined()
    expect(payload.acr).toBeUndefined()
    const removed = (await core.audit.list({ userId, type: 'mfa.removed' })).items
    expect(removed).toHaveLength(1)
  })
})
