import { createApiKeyService } from './api-keys/api-key-service.js'
import { deriveAuditChainKey } from './audit/chain.js'
import { createAuditEventFactory } from './audit/events.js'
import { openAuditChain } from './audit/startup.js'
import { verifyAuditChain } from './audit/verify.js'
import { createAuthenticator } from './auth/authenticator.js'
import { type ConfigInput, parseConfig } from './config/schema.js'
import type { CoreDeps } from './core-deps.js'
import type { AuditChainKey } from './domain/records.js'
import type { Store } from './domain/store.js'
import { UsersError } from './errors.js'
import { type Clock, systemClock } from './lib/clock.js'
import { createLogger, type Logger } from './lib/logger.js'
import { type Random, secureRandom } from './lib/random.js'
import { createEmailConflictBudget } from './lockout/email-conflict-budget.js'
import { createLoginLockout, type LimiterFactory } from './lockout/login-lockout.js'
import { createMfaService } from './mfa/mfa-service.js'
import { createMfaVerifier } from './mfa/mfa-verify.js'
import { createPasswordHasher } from './passwords/hasher.js'
import { createFieldSealer } from './secrets/field-sealer.js'
import { createSessionService } from './sessions/session-service.js'
import { createSipCredentialService } from './sip/sip-credential-service.js'
import { openStore } from './storage/open-store.js'
import { createLimiterBackend, type LimiterBackend } from './storage/redis/limiter-backend.js'
import { createKeyring } from './tokens/keyring.js'
import type { AuditEvent, CoreEvent, UsersCore } from './types.js'
import { createAdminBootstrap } from './users/bootstrap.js'
import { createUserTransfer } from './users/transfer.js'
import { createUserService } from './users/user-service.js'

/** Seams for tests and embedding programs; every one optional. */
export interface InitOptions {
  clock?: Clock
  random?: Random
  /** Defaults to a pino logger at `log_level` writing JSON lines to standard output. */
  logger?: Logger
  /** Limiter store for the login lockout (memory by default; Redis for several instances). */
  limiters?: LimiterFactory
  /** An already opened store (advanced: sharing one database handle). */
  store?: Store
}

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
const AUDIT_PAGE_MAX = 1000

/**
 * Opens users-core: validates the config, opens and migrates the database, loads or creates the
 * signing keys, and returns the service (SPEC §9). Reads no environment variable and no file.
 */
export async function init(input: ConfigInput = {}, options: InitOptions = {}): Promise<UsersCore> {
  const config = parseConfig(input)
  const clock = options.clock ?? systemClock
  const random = options.random ?? secureRandom
  const logger = options.logger ?? createLogger(config.log_level)
  const store = options.store ?? (await openStore(config, { logger }))
  const listeners = new Set<(event: CoreEvent) => void>()
  const emit = (event: CoreEvent) => {
    for (const listener of listeners) {
      try {
        listener(event)
      } catch (error) {
        logger.warn({ err: error }, 'core event listener failed')
      }
    }
  }

  let keyring: ReturnType<typeof createKeyring> | undefined
  let hasher: ReturnType<typeof createPasswordHasher> | undefined
  // Without a limiter store from the embedding program, the core keeps its own (memory, or
  // Redis when rate_limit.redis_url is set) for the login lockout.
  const ownLimiters: LimiterBackend | undefined = options.limiters
    ? undefined
    : createLimiterBackend(config, logger)
  const limiters = options.limiters ?? (ownLimiters as LimiterBackend).createLimiter
  try {
    const migrations = await store.migrate()
    const chainKey = deriveAuditChainKey(config)
    await openAuditChain(store, chainKey, migrations, logger)
    hasher = createPasswordHasher({
      policy: config.password,
      onHash: (e) => emit({ type: 'hash', ...e }),
    })
    // The dummy hash for unknown users is made now, so the first unknown login costs no extra.
    await hasher.verifyDummy('users-core warm-up')
    keyring = createKeyring({
      store,
      jwt: config.jwt,
      clock,
      random,
      logger,
      onRotated: (kid) => emit({ type: 'keys_rotated', kid }),
    })
    await keyring.init()
    const sealer = await createFieldSealer({
      secret: config.jwt.key_encryption_secret,
      store,
      random,
      clock,
    })
    const deps: CoreDeps = {
      config,
      store,
      hasher,
      keyring,
      sealer,
      lockout: createLoginLockout({
        maxFailures: config.rate_limit.max_failed_logins,
        lockoutSeconds: config.rate_limit.lockout_seconds,
        limiters,
      }),
      sipLockout: createLoginLockout({
        maxFailures: config.sip.max_failed_auths,
        lockoutSeconds: config.rate_limit.lockout_seconds,
        limiters,
        keyPrefix: 'users_core_sip_lockout',
      }),
      emailConflicts: createEmailConflictBudget({ limiters }),
      audit: createAuditEventFactory(clock, random),
      clock,
      random,
      logger,
      emit,
    }
    return assemble(deps, migrations, listeners, ownLimiters, chainKey)
  } catch (error) {
    keyring?.close()
    await hasher?.close()
    await ownLimiters?.close()
    await store.close().catch(() => undefined)
    throw error
  }
}

function assemble(
  deps: CoreDeps,
  migrations: UsersCore['migrations'],
  listeners: Set<(event: CoreEvent) => void>,
  ownLimiters: LimiterBackend | undefined,
  chainKey: AuditChainKey | undefined,
): UsersCore {
  const { store, keyring, clock, config, logger } = deps
  const users = createUserService(deps)
  const transfer = createUserTransfer(deps)
  const sessions = createSessionService(deps)
  const apiKeys = createApiKeyService(deps)
  const auth = createAuthenticator(deps, apiKeys)
  const sip = createSipCredentialService(deps)
  const mfa = createMfaService(deps)
  const mfaVerifier = createMfaVerifier(deps, sessions)
  let closed = false

  // Expired sessions and deny-list rows are garbage; clearing them keeps lookups small.
  const pruneTimer = setInterval(() => {
    store
      .pruneExpired(clock.now())
      .catch((error: unknown) => logger.warn({ err: error }, 'pruning expired sessions failed'))
  }, HOUR_MS)
  pruneTimer.unref()

  const toAuditEvent = ({
    seq: _s,
    prevHash: _p,
    hash: _h,
    ...event
  }: AuditEvent & {
    seq: number
    prevHash: string
    hash: string
  }): AuditEvent => event

  return {
    config,
    clock,
    migrations,
    createUser: users.createUser,
    authenticatePassword: sessions.login,
    refreshToken: sessions.refresh,
    logout: sessions.logout,
    authenticateAccessToken: auth.authenticateAccessToken,
    authenticateApiKey: apiKeys.authenticate,
    authenticateBearer: auth.authenticateBearer,
    introspect: auth.introspect,
    jwks: async () => keyring.jwks(),
    bootstrapAdmin: createAdminBootstrap(deps),
    users: {
      get: users.get,
      getByUsername: users.getByUsername,
      list: users.list,
      count: users.count,
      update: users.update,
      setRoles: users.setRoles,
      delete: users.delete,
      changePassword: users.changePassword,
      resetPassword: users.resetPassword,
      importBatch: transfer.importBatch,
      exportAll: transfer.exportAll,
    },
    sessions: { list: sessions.list, revoke: sessions.revoke },
    mfa: { ...mfa, verify: mfaVerifier.verify },
    apiKeys: {
      create: apiKeys.create,
      validate: apiKeys.validate,
      get: apiKeys.get,
      list: apiKeys.list,
      revoke: apiKeys.revoke,
      exchange: apiKeys.exchange,
    },
    sip: {
      createCredential: sip.createCredential,
      listCredentials: sip.listCredentials,
      getCredential: sip.getCredential,
      revokeCredential: sip.revokeCredential,
      verifyDigest: sip.verifyDigest,
      readHa1: sip.readHa1,
    },
    keys: {
      list: async () => keyring.list(),
      async rotate(ctx) {
        await keyring.rotate([deps.audit.build('signing_key.rotated', null, ctx)])
        return keyring.jwks()
      },
      rotateIfDue: () =>
        keyring.rotateIfDue([
          deps.audit.build('signing_key.rotated', null, undefined, { reason: 'schedule' }),
        ]),
      reload: () => keyring.reload(),
    },
    audit: {
      async list(filter = {}) {
        const limit = filter.limit ?? 50
        const offset = filter.offset ?? 0
        if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_PAGE_MAX) {
          throw new UsersError('VALIDATION_ERROR', {
            message: `limit must be between 1 and ${AUDIT_PAGE_MAX}`,
            details: { fields: [{ field: 'limit', message: `must be 1 to ${AUDIT_PAGE_MAX}` }] },
          })
        }
        const page = await store.listAuditEvents({
          limit,
          offset,
          ...(filter.userId ? { userId: filter.userId } : {}),
          ...(filter.type ? { type: filter.type } : {}),
          ...(filter.since ? { since: filter.since } : {}),
          ...(filter.until ? { until: filter.until } : {}),
        })
        return { items: page.items.map(toAuditEvent), total: page.total }
      },
      verify: () => verifyAuditChain(store, chainKey),
      async seal() {
        if (chainKey === undefined) {
          throw new UsersError('VALIDATION_ERROR', {
            message: 'set audit.chain_key (or jwt.key_encryption_secret) to seal the audit chain',
          })
        }
        if ((await store.auditChainState()).headTag !== null) return false
        // Sealing vouches for everything before the head: only a chain that verifies unkeyed.
        const unkeyed = await verifyAuditChain(store, undefined)
        if (!unkeyed.ok) {
          const where = unkeyed.problem
            ? ` at seq ${unkeyed.problem.seq}: ${unkeyed.problem.reason}`
            : ''
          throw new UsersError('CONFLICT', {
            message: `the audit chain is broken${where}; not sealing it`,
          })
        }
        return store.sealAuditChain()
      },
      prune: () =>
        store.pruneAudit(new Date(clock.now().getTime() - config.audit.retention_days * DAY_MS)),
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    checkHealth: () => store.ping(),
    hashPoolStats: () => {
      const { active, queued } = deps.hasher.stats()
      return { active, queued }
    },
    async close() {
      if (closed) return
      closed = true
      clearInterval(pruneTimer)
      keyring.close()
      listeners.clear()
      await ownLimiters?.close()
      await deps.hasher.close()
      await store.close()
    },
  }
}
