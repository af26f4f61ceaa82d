import { z } from 'zod'
import type { CoreDeps } from '../core-deps.js'
import type { SipCredentialRecord, UserRecord } from '../domain/records.js'
import { UsersError } from '../errors.js'
import { constantTimeEqual } from '../lib/constant-time.js'
import { BASE62 } from '../lib/random.js'
import { createUseStamp } from '../lib/use-stamp.js'
import type {
  CreateSipCredentialInput,
  RequestContext,
  SipCredentialInfo,
  SipDigestInput,
  SipDigestResult,
  SipHa1Query,
} from '../types.js'
import {
  baseAlgorithm,
  computeHa1,
  expectedResponse,
  HA1_ALGORITHMS,
  type Ha1Algorithm,
} from './digest.js'
import {
  parseSipInput,
  SIP_USERNAME_PATTERN,
  sipDigestInputSchema,
  sipHa1QuerySchema,
  sipLabelSchema,
  sipUsernameSchema,
} from './validation.js'

/** 32 base62 characters ≈ 190 bits (SPEC §11 asks for at least 24); phones must store it. */
const SECRET_LENGTH = 32

const createSchema = z.strictObject({
  userId: z.string(),
  label: sipLabelSchema,
  sipUsername: sipUsernameSchema.optional(),
})

/** The sealed HA1 of a variant: `MD5` … for `user:realm:secret`, `ha1b:MD5` … for `user@realm`. */
const variantOf = (algorithm: Ha1Algorithm, ha1b: boolean) =>
  ha1b ? `ha1b:${algorithm}` : algorithm
const sealContext = (credentialId: string, variant: string) => `sip-ha1:${credentialId}:${variant}`

/** Why a digest check failed, for the audit trail only: the caller always gets `{ valid: false }`. */
type FailureReason =
  | 'unknown_username'
  | 'revoked'
  | 'inactive_user'
  | 'realm_mismatch'
  | 'wrong_response'

/** SIP credentials (SPEC §11): per-device secrets, checked by digest; only sealed HA1s kept. */
export function createSipCredentialService(deps: CoreDeps) {
  const { store, clock, random, config, sealer, sipLockout } = deps
  const useStamp = createUseStamp({
    write: (id, at, staleBefore) => store.touchSipCredential(id, at, staleBefore),
    onError: (error) => deps.logger.warn({ err: error }, 'could not record SIP credential use'),
  })
  // Unknown names open and digest this, so they cost what a real credential costs.
  const dummyContext = sealContext(random.uuid(), 'MD5')
  const dummySealed = sealer.seal(
    computeHa1('MD5', 'unknown', config.sip.realm, random.string(SECRET_LENGTH, BASE62)),
    dummyContext,
  )

  function toInfo(c: SipCredentialRecord): SipCredentialInfo {
    return {
      id: c.id,
      userId: c.userId,
      label: c.label,
      sipUsername: c.sipUsername,
      realm: c.realm,
      createdAt: c.createdAt,
      lastUsedAt: c.lastUsedAt,
      revoked: c.revokedAt !== null,
    }
  }

  /** Splits `name@realm` (the ha1b form) from a plain SIP username. */
  function parseDigestUsername(username: string, realm: string) {
    const suffix = `@${realm}`
    return username.endsWith(suffix)
      ? { sipUsername: username.slice(0, -suffix.length), ha1b: true }
      : { sipUsername: username, ha1b: false }
  }

  async function findLive(sipUsername: string, realm: string) {
    const found = SIP_USERNAME_PATTERN.test(sipUsername)
      ? await store.findSipCredentialByUsername(sipUsername)
      : undefined
    const reason: FailureReason | undefined =
      found === undefined
        ? 'unknown_username'
        : found.credential.revokedAt !== null
          ? 'revoked'
          : !found.user.active
            ? 'inactive_user'
            : found.credential.realm !== realm
              ? 'realm_mismatch'
              : undefined
    return { found, reason }
  }

  async function createCredential(input: CreateSipCredentialInput, ctx?: RequestContext) {
    const valid = parseSipInput(createSchema, input)
    const user = await store.findUserById(valid.userId)
    if (!user) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
    const sipUsername = valid.sipUsername ?? `${user.username}-${valid.label}`
    if (!SIP_USERNAME_PATTERN.test(sipUsername)) {
      throw new UsersError('VALIDATION_ERROR', {
        message: 'The default SIP username <username>-<label> is not valid; give sip_username.',
        details: {
          fields: [
            { field: 'sip_username', message: 'must be 3 to 64 characters of A-Z a-z 0-9 _ . -' },
          ],
        },
      })
    }
    const secret = random.string(SECRET_LENGTH, BASE62)
    const id = random.uuid()
    const realm = config.sip.realm
    const sealedHa1s: Record<string, string> = {}
    for (const algorithm of HA1_ALGORITHMS) {
      for (const ha1b of [false, true]) {
        const variant = variantOf(algorithm, ha1b)
        const name = ha1b ? `${sipUsername}@${realm}` : sipUsername
        sealedHa1s[variant] = sealer.seal(
          computeHa1(algorithm, name, realm, secret),
          sealContext(id, variant),
        )
      }
    }
    const record: SipCredentialRecord = {
      id,
      userId: user.id,
      label: valid.label,
      sipUsername,
      realm,
      sealedHa1s,
      createdAt: clock.now(),
      lastUsedAt: null,
      revokedAt: null,
    }
    await store.insertSipCredential(record, [
      deps.audit.build('sip_credential.created', user.id, ctx, {
        credential_id: id,
        label: record.label,
        sip_username: sipUsername,
        realm,
      }),
    ])
    return { credential: toInfo(record), secret }
  }

  async function verifyDigest(
    input: SipDigestInput,
    ctx?: RequestContext,
  ): Promise<SipDigestResult> {
    const v = parseSipInput(sipDigestInputSchema, input)
    const { sipUsername, ha1b } = parseDigestUsername(v.username, v.realm)
    const source = v.sourceIp ?? ctx?.ip ?? null
    // Checked before any lookup or digest: a locked pair costs nothing more.
    await sipLockout.assertNotLocked(sipUsername, source)
    const algorithm = v.algorithm ?? 'MD5'
    const { found, reason } = await findLive(sipUsername, v.realm)
    const variant = variantOf(baseAlgorithm(algorithm), ha1b)
    const sealed = reason === undefined ? found?.credential.sealedHa1s[variant] : undefined
    const ha1 = (
      sealed !== undefined && found !== undefined
        ? sealer.open(sealed, sealContext(found.credential.id, variant))
        : sealer.open(dummySealed, dummyContext)
    ).toString('utf8')
    const expected = expectedResponse(ha1, { ...v, algorithm })
    const matches = constantTimeEqual(expected, v.response.toLowerCase())
    const auditCtx: RequestContext = { ...ctx, ip: source }
    const details = {
      sip_username: sipUsername,
      ...(found ? { credential_id: found.credential.id } : {}),
      algorithm,
      ...(v.sourceIp !== undefined && ctx?.ip ? { registrar_ip: ctx.ip } : {}),
    }
    if (!matches || reason !== undefined || found === undefined) {
      const { locked } = await sipLockout.recordFailure(sipUsername, source)
      await store.appendAudit([
        deps.audit.build('sip.auth.failed', found?.user.id ?? null, auditCtx, {
          ...details,
          reason: reason ?? 'wrong_response',
          ...(locked ? { locked: true } : {}),
        }),
      ])
      return { valid: false }
    }
    await sipLockout.recordSuccess(sipUsername, source)
    await store.appendAudit([
      deps.audit.build('sip.auth.succeeded', found.user.id, auditCtx, details),
    ])
    const now = clock.now()
    useStamp.stamp(found.credential.id, found.credential.lastUsedAt, now)
    return success(found.credential, found.user)
  }

  function success(credential: SipCredentialRecord, user: UserRecord): SipDigestResult {
    return {
      valid: true,
      userId: user.id,
      username: user.username,
      sipUsername: credential.sipUsername,
      credentialId: credential.id,
      roles: [...user.roles],
    }
  }

  async function readHa1(query: SipHa1Query, ctx?: RequestContext) {
    const q = parseSipInput(sipHa1QuerySchema, query)
    const algorithm = q.algorithm ?? 'MD5'
    const { sipUsername, ha1b } = parseDigestUsername(q.username, q.realm)
    const { found, reason } = await findLive(sipUsername, q.realm)
    const variant = variantOf(algorithm, ha1b)
    const live = reason === undefined ? found : undefined
    // Every lookup is audited, misses too: a registrar's key asking for many names stands out.
    await store.appendAudit([
      deps.audit.build('sip.ha1_read', found?.user.id ?? null, ctx, {
        sip_username: sipUsername,
        ...(found ? { credential_id: found.credential.id } : {}),
        variant,
        found: live !== undefined,
      }),
    ])
    const sealed = live?.credential.sealedHa1s[variant]
    if (live === undefined || sealed === undefined) return undefined
    useStamp.stamp(live.credential.id, live.credential.lastUsedAt, clock.now())
    const ha1 = sealer.open(sealed, sealContext(live.credential.id, variant)).toString('utf8')
    return { ha1, userId: live.user.id }
  }

  return {
    createCredential,
    verifyDigest,
    readHa1,
    async listCredentials(userId: string): Promise<SipCredentialInfo[]> {
      return (await store.listSipCredentials(userId)).map(toInfo)
    },
    async getCredential(id: string): Promise<SipCredentialInfo | undefined> {
      const credential = await store.findSipCredentialById(id)
      return credential ? toInfo(credential) : undefined
    },
    async revokeCredential(id: string, ctx?: RequestContext): Promise<void> {
      const credential = await store.findSipCredentialById(id)
      const revoked =
        credential !== undefined &&
        (await store.revokeSipCredential(id, clock.now(), [
          deps.audit.build('sip_credential.revoked', credential.userId, ctx, {
            credential_id: id,
            label: credential.label,
            sip_username: credential.sipUsername,
          }),
        ]))
      if (!revoked) throw new UsersError('NOT_FOUND', { message: 'No such SIP credential.' })
    },
  }
}
