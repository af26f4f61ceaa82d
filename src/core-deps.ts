import type { AuditEventFactory } from './audit/events.js'
import type { Config } from './config/schema.js'
import type { Store } from './domain/store.js'
import type { Clock } from './lib/clock.js'
import type { Logger } from './lib/logger.js'
import type { Random } from './lib/random.js'
import type { EmailConflictBudget } from './lockout/email-conflict-budget.js'
import type { LoginLockout } from './lockout/login-lockout.js'
import type { PasswordHasher } from './passwords/hasher.js'
import type { FieldSealer } from './secrets/field-sealer.js'
import type { Keyring } from './tokens/keyring.js'
import type { CoreEvent } from './types.js'

/** What every domain service is built from; assembled once in core.ts. */
export interface CoreDeps {
  config: Config
  store: Store
  hasher: PasswordHasher
  keyring: Keyring
  /** Seals secrets kept in rows (SIP HA1s, TOTP secrets). */
  sealer: FieldSealer
  lockout: LoginLockout
  /** Lockout of SIP digest failures per (sip_username, source), SPEC §11. */
  sipLockout: LoginLockout
  emailConflicts: EmailConflictBudget
  audit: AuditEventFactory
  clock: Clock
  random: Random
  logger: Logger
  emit(event: CoreEvent): void
}
