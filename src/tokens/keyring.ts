import type { KeyObject } from 'node:crypto'
import type { Config } from '../config/schema.js'
import type {
  ApiKeyPermission,
  AuditEventInput,
  SigningAlgorithm,
  SigningKeyRecord,
} from '../domain/records.js'
import type { Store } from '../domain/store.js'
import { isUsersError, UsersError } from '../errors.js'
import type { Clock } from '../lib/clock.js'
import type { Logger } from '../lib/logger.js'
import type { Random } from '../lib/random.js'
import type { PublicJwk, SigningKeyInfo } from '../types.js'
import {
  type AccessTokenVerifier,
  buildAccessTokenClaims,
  createAccessTokenVerifier,
  peekKid,
  type VerifiedAccessToken,
} from './access-token.js'
import { signCompactJws } from './jws.js'
import { isSealed, openPrivateKey, sealPrivateKey } from './key-encryption.js'
import {
  isPublished,
  isRotationDue,
  KEY_RELOAD_SECONDS,
  keyStatus,
  latestScheduledKey,
  nextScheduleChange,
  orderKeys,
  planRotation,
  selectSigningKey,
} from './key-schedule.js'
import {
  generateSigningKey,
  loadPrivateKeyFile,
  parsePrivateKeyPem,
  publicJwkOf,
  publicMembers,
} from './signing-key.js'

/** How often every instance re-reads the key set, so it sees another instance's rotation. */
export const RELOAD_INTERVAL_MS = KEY_RELOAD_SECONDS * 1000

/** An unknown `kid` triggers at most one reload per this interval: junk kids cannot hammer the DB. */
export const UNKNOWN_KID_RELOAD_INTERVAL_MS = 5_000

/** What {@link createKeyring} is built from. */
export interface KeyringDeps {
  store: Store
  jwt: Config['jwt']
  clock: Clock
  random: Random
  logger: Logger
  /** Background reload (and due-rotation check) period; 0 disables the timer. Default 30 s. */
  reloadIntervalMs?: number
  /** Rotate when due at init and on each background tick. Default true. */
  autoRotate?: boolean
  /** Told of every rotation this process applies (explicit, scheduled or algorithm change). */
  onRotated?: (activatedKid: string) => void
}

/** Input of {@link Keyring.issueAccessToken}; scope and roles are the caller's (cut for API keys). */
export interface IssueAccessTokenInput {
  user: { id: string; username: string; email: string | null; roles: readonly string[] }
  /** The session; omitted for tokens obtained with an API key (no `sid` claim). */
  sessionId?: string | undefined
  /** The API key a token is exchanged for (`api_key_id` claim). */
  apiKeyId?: string | undefined
  /** That key's permissions (`permissions` claim). */
  permissions?: readonly ApiKeyPermission[] | undefined
  scope: string
  roles: readonly string[]
  /** RFC 8176 methods of an MFA login (`amr`, with `acr`); absent or empty for a password login. */
  amr?: readonly string[] | undefined
  /** At most `jwt.access_ttl_seconds`, which retired keys are published for. Default: that. */
  ttlSeconds?: number | undefined
}

/** A signed access token and the facts callers record about it. */
export interface IssuedAccessToken {
  token: string
  jti: string
  issuedAt: Date
  expiresAt: Date
}

/** The signing keys of this service: issuing, verifying, publishing and rotating (SPEC §4.2). */
export interface Keyring {
  /** Loads the keys: `jwt.private_key_file`, or the stored keys (created on first start). */
  init(): Promise<void>
  /** Signs an access token with the current key. */
  issueAccessToken(input: IssueAccessTokenInput): Promise<IssuedAccessToken>
  /** Verifies an access token; UNAUTHORIZED on any failure. */
  verifyAccessToken(token: string): Promise<VerifiedAccessToken>
  /** Every key a validator may meet: current, next, and retired until they expire. */
  jwks(): { keys: PublicJwk[] }
  /** The published keys with their status, current first. */
  list(): SigningKeyInfo[]
  /** The kid that signs tokens issued now. */
  currentKid(): string
  /**
   * Activates the next key (once published for the JWKS max-age), retires the current one and
   * pre-publishes a new next key. `audit` events of type `signing_key.rotated` get the kids added
   * to their details (one is built when none is given). False when another process rotated first.
   */
  rotate(audit?: AuditEventInput[]): Promise<boolean>
  /** Rotates when `jwt.key_rotation_days` have passed since the last activation; true if this call did. */
  rotateIfDue(audit?: AuditEventInput[]): Promise<boolean>
  /** Re-reads the key set from the store, pruning retired keys that have expired. */
  reload(): Promise<void>
  /** Stops the background reload timer. */
  close(): void
}

interface LoadedKey {
  kid: string
  algorithm: SigningAlgorithm
  createdAt: Date
  activatesAt: Date | null
  expiresAt: Date | null
  publicJwk: PublicJwk
}

interface View {
  cacheKey: string
  keys: PublicJwk[]
  verifier: AccessTokenVerifier
}

/** Creates the keyring; call {@link Keyring.init} before use. */
export function createKeyring(deps: KeyringDeps): Keyring {
  const { store, jwt, clock, random, logger } = deps
  const secret = jwt.key_encryption_secret
  const reloadIntervalMs = deps.reloadIntervalMs ?? RELOAD_INTERVAL_MS
  const autoRotate = deps.autoRotate ?? true
  const fileMode = jwt.private_key_file !== undefined

  let keys: LoadedKey[] = []
  // Parsed once per kid: no PEM parsing (or scrypt) per token. A kid is a thumbprint, never reused.
  const privateKeys = new Map<string, KeyObject>()
  let view: View | undefined
  let viewOf: LoadedKey[] | undefined
  let viewFrom = 0
  let viewUntil = 0
  let timer: NodeJS.Timeout | undefined
  let reloadQueue: Promise<void> = Promise.resolve()
  let lastKidReloadMs = Number.NEGATIVE_INFINITY
  let initialized = false

  function currentView(now: Date): View {
    // Every JWKS request and token check reads the view; it can change only when the keys are
    // reloaded or the clock reaches a key's activation or expiry (or goes back).
    const at = now.getTime()
    if (view && viewOf === keys && at >= viewFrom && at < viewUntil) return view
    viewOf = keys
    viewFrom = at
    viewUntil = nextScheduleChange(keys, now)
    const visible = orderKeys(
      keys.filter((k) => isPublished(k, now)),
      now,
    )
    const cacheKey = visible.map((k) => k.kid).join(' ')
    if (view?.cacheKey === cacheKey) return view
    const published = visible.map((k) => k.publicJwk)
    view = {
      cacheKey,
      keys: published,
      verifier: createAccessTokenVerifier({
        keys: published,
        issuer: jwt.issuer,
        audience: jwt.audience,
        clock,
      }),
    }
    return view
  }

  async function newKeyRecord(now: Date, activatesAt: Date | null): Promise<SigningKeyRecord> {
    const key = await generateSigningKey(jwt.algorithm)
    privateKeys.set(key.kid, key.privateKey)
    return {
      kid: key.kid,
      algorithm: key.algorithm,
      publicJwk: JSON.stringify(key.publicJwk),
      privateKey: secret
        ? await sealPrivateKey(key.privateKeyPem, secret, random, key.kid)
        : key.privateKeyPem,
      createdAt: now,
      activatesAt,
      expiresAt: null,
    }
  }

  async function applyRecords(records: SigningKeyRecord[]): Promise<void> {
    const now = clock.now()
    const loaded: LoadedKey[] = []
    for (const record of records) {
      const key = toLoadedKey(record)
      // Retired-and-expired keys are never used again; the rest may sign (a retired key keeps
      // signing until its successor's activation), so their private keys must be ready.
      if (isPublished(key, now) && !privateKeys.has(key.kid)) {
        privateKeys.set(key.kid, await openStoredKey(record))
      }
      loaded.push(key)
    }
    const kids = new Set(loaded.map((k) => k.kid))
    for (const kid of privateKeys.keys()) if (!kids.has(kid)) privateKeys.delete(kid)
    keys = loaded
  }

  async function openStoredKey(record: SigningKeyRecord): Promise<KeyObject> {
    const label = `signing key ${record.kid}`
    const pem = await openPrivateKey(record.privateKey, secret, record.kid)
    if (secret !== undefined && !isSealed(record.privateKey)) {
      logger.warn(
        { kid: record.kid },
        'signing key is stored unencrypted (created before jwt.key_encryption_secret was set); it is used until retired',
      )
    }
    let privateKey: KeyObject
    try {
      privateKey = parsePrivateKeyPem(pem, record.algorithm, label)
    } catch (error) {
      if (!isUsersError(error)) throw error
      throw new UsersError('INTERNAL_ERROR', { message: error.message })
    }
    // The kid is the key's thumbprint: a plain or enc:v1 key copied from another row fails here.
    if ((await publicJwkOf(privateKey, record.algorithm)).kid !== record.kid) {
      throw new UsersError('INTERNAL_ERROR', {
        message: `${label}: the stored private key belongs to another kid`,
      })
    }
    return privateKey
  }

  function reload(): Promise<void> {
    if (fileMode) return Promise.resolve()
    // Serialised, not coalesced: a reload asked for after a rotation must see that rotation.
    const run = reloadQueue.then(async () => {
      const now = clock.now()
      if (keys.some((k) => k.expiresAt !== null && k.expiresAt.getTime() <= now.getTime())) {
        await store.pruneSigningKeys(now)
      }
      await applyRecords(await store.listSigningKeys())
    })
    reloadQueue = run.catch(() => undefined)
    return run
  }

  function rotationEvents(
    audit: AuditEventInput[] | undefined,
    details: Record<string, unknown>,
  ): AuditEventInput[] {
    const events = [...(audit ?? [])]
    if (!events.some((e) => e.type === 'signing_key.rotated')) {
      events.push({
        id: random.uuid(),
        at: clock.now(),
        type: 'signing_key.rotated',
        actor: { type: 'system', id: null },
        userId: null,
        ip: null,
        userAgent: null,
        requestId: null,
        details: {},
      })
    }
    return events.map((e) =>
      e.type === 'signing_key.rotated'
        ? { ...e, details: { ...details, ...e.details, ...facts(details) } }
        : e,
    )
  }

  async function rotateLoaded(
    audit: AuditEventInput[] | undefined,
    reason: string,
  ): Promise<boolean> {
    const now = clock.now()
    const plan = planRotation(keys, now, jwt.access_ttl_seconds)
    if (!plan) {
      throw new UsersError('INTERNAL_ERROR', {
        message: 'cannot rotate signing keys: the store holds no pre-published next key',
      })
    }
    const newNext = await newKeyRecord(now, null)
    const details = {
      reason,
      activated_kid: plan.nextKid,
      activates_at: plan.activatesAt.toISOString(),
      retired_kid: plan.retiringKid,
      retired_until: plan.retiredExpiresAt.toISOString(),
      next_kid: newNext.kid,
      algorithm: newNext.algorithm,
    }
    const rotated = await store.rotateSigningKeys(
      { ...plan, newNext },
      rotationEvents(audit, details),
    )
    await reload()
    if (rotated) {
      logger.info(details, 'signing keys rotated')
      deps.onRotated?.(plan.nextKid)
    } else {
      logger.info({ reason }, 'signing keys were already rotated by another process')
    }
    return rotated
  }

  async function switchAlgorithmIfNeeded(): Promise<void> {
    // The next key was generated under the old algorithm, and a new key must be published before
    // it signs: one rotation publishes a key of the configured algorithm, a second schedules it.
    for (let i = 0; i < 3; i++) {
      const latest = latestScheduledKey(keys)
      if (!latest || latest.algorithm === jwt.algorithm) return
      logger.info(
        { from: latest.algorithm, to: jwt.algorithm },
        'jwt.algorithm changed: rotating to a key of the configured algorithm',
      )
      await rotateLoaded(undefined, 'algorithm_changed')
    }
  }

  /** Decides on the keys as loaded; callers reload first when freshness matters. */
  async function rotateIfDueLoaded(audit?: AuditEventInput[]): Promise<boolean> {
    if (fileMode || !isRotationDue(keys, clock.now(), jwt.key_rotation_days)) return false
    return rotateLoaded(audit, 'scheduled')
  }

  async function rotateIfDue(audit?: AuditEventInput[]): Promise<boolean> {
    if (fileMode || jwt.key_rotation_days <= 0) return false
    await reload()
    return rotateIfDueLoaded(audit)
  }

  async function tick(): Promise<void> {
    try {
      await reload()
      if (autoRotate) await rotateIfDueLoaded()
    } catch (error) {
      logger.warn({ err: error }, 'signing keys: background reload failed; keeping the loaded set')
    }
  }

  function signingKey(now: Date): { key: LoadedKey; privateKey: KeyObject } {
    const key = selectSigningKey(keys, now)
    const privateKey = key && privateKeys.get(key.kid)
    if (!key || !privateKey) {
      throw new UsersError('INTERNAL_ERROR', {
        message: 'no signing key is loaded (keyring not initialised)',
      })
    }
    return { key, privateKey }
  }

  return {
    async init() {
      if (initialized) return
      initialized = true
      if (fileMode) {
        const material = await loadPrivateKeyFile(jwt.private_key_file as string, jwt.algorithm)
        privateKeys.set(material.kid, material.privateKey)
        keys = [
          {
            kid: material.kid,
            algorithm: material.algorithm,
            createdAt: clock.now(),
            activatesAt: new Date(0),
            expiresAt: null,
            publicJwk: material.publicJwk,
          },
        ]
        return
      }
      let records = await store.listSigningKeys()
      if (records.length === 0) {
        const now = clock.now()
        // current signs now; next is pre-published so the first rotation can activate it at once
        records = await store.bootstrapSigningKeys([
          await newKeyRecord(now, now),
          await newKeyRecord(now, null),
        ])
      }
      await applyRecords(records)
      await switchAlgorithmIfNeeded()
      if (autoRotate) await rotateIfDueLoaded()
      if (reloadIntervalMs > 0) {
        timer = setInterval(() => void tick(), reloadIntervalMs)
        timer.unref()
      }
    },

    async issueAccessToken(input) {
      const now = clock.now()
      const ttlSeconds = input.ttlSeconds ?? jwt.access_ttl_seconds
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > jwt.access_ttl_seconds) {
        throw new UsersError('VALIDATION_ERROR', {
          message: `ttlSeconds must be an integer from 1 to jwt.access_ttl_seconds (${jwt.access_ttl_seconds})`,
        })
      }
      const { key, privateKey } = signingKey(now)
      const claims = buildAccessTokenClaims({
        issuer: jwt.issuer,
        audience: jwt.audience,
        user: input.user,
        roles: input.roles,
        scope: input.scope,
        sessionId: input.sessionId,
        apiKeyId: input.apiKeyId,
        permissions: input.permissions,
        amr: input.amr,
        jti: random.uuid(),
        now,
        ttlSeconds,
      })
      const token = await signCompactJws(claims, {
        kid: key.kid,
        algorithm: key.algorithm,
        privateKey,
      })
      return {
        token,
        jti: claims.jti,
        issuedAt: new Date(claims.iat * 1000),
        expiresAt: new Date(claims.exp * 1000),
      }
    },

    async verifyAccessToken(token) {
      try {
        return await currentView(clock.now()).verifier.verify(token)
      } catch (error) {
        // Another instance may have rotated: one reload for a kid we have not seen (rate-limited
        // so junk kids cannot hammer the database), then one more try.
        const kid = peekKid(token)
        if (kid === undefined || fileMode || currentView(clock.now()).verifier.kids.has(kid)) {
          throw error
        }
        const nowMs = clock.now().getTime()
        if (nowMs - lastKidReloadMs < UNKNOWN_KID_RELOAD_INTERVAL_MS) throw error
        lastKidReloadMs = nowMs
        try {
          await reload()
        } catch (reloadError) {
          logger.warn({ err: reloadError }, 'signing keys: reload for an unknown kid failed')
        }
        return currentView(clock.now()).verifier.verify(token)
      }
    },

    jwks() {
      return { keys: currentView(clock.now()).keys.map((k) => ({ ...k })) }
    },

    list() {
      const now = clock.now()
      const signing = selectSigningKey(keys, now)
      return orderKeys(
        keys.filter((k) => isPublished(k, now)),
        now,
      ).map((k) => ({
        kid: k.kid,
        algorithm: k.algorithm,
        status: keyStatus(k, signing, now),
        createdAt: k.createdAt,
        activatesAt: k.activatesAt,
        expiresAt: k.expiresAt,
      }))
    },

    currentKid() {
      return signingKey(clock.now()).key.kid
    },

    async rotate(audit) {
      if (fileMode) {
        throw new UsersError('CONFLICT', {
          message: 'signing keys are not rotated while jwt.private_key_file is set',
        })
      }
      await reload()
      return rotateLoaded(audit, 'requested')
    },

    rotateIfDue,
    reload,

    close() {
      if (timer) clearInterval(timer)
      timer = undefined
    },
  }
}

/** The kids and instants of a rotation: always those of this rotation, whatever details say. */
function facts(details: Record<string, unknown>): Record<string, unknown> {
  const { reason: _reason, ...rest } = details
  return rest
}

function toLoadedKey(record: SigningKeyRecord): LoadedKey {
  let parsed: unknown
  try {
    parsed = JSON.parse(record.publicJwk)
  } catch (cause) {
    throw new UsersError('INTERNAL_ERROR', {
      message: `signing key ${record.kid}: the stored public JWK is not JSON`,
      cause,
    })
  }
  const members = publicMembers((parsed ?? {}) as Record<string, unknown>)
  return {
    kid: record.kid,
    algorithm: record.algorithm,
    createdAt: record.createdAt,
    activatesAt: record.activatesAt,
    expiresAt: record.expiresAt,
    publicJwk: { ...members, kid: record.kid, use: 'sig', alg: record.algorithm },
  }
}
