import { initialMigration } from './0001-initial.js'
import { userSearchMigration } from './0002-user-search.js'
import { userCountMigration } from './0003-user-count.js'
import { usersCreatedAtRowidMigration } from './0004-users-created-at-rowid.js'
import { userActiveCountMigration } from './0005-user-active-count.js'
import { userRolesMigration } from './0006-user-roles.js'
import { sessionFormerHashesMigration } from './0007-session-former-hashes.js'
import { auditChainKeyMigration } from './0008-audit-chain-key.js'
import { instanceSecretsMigration } from './0009-instance-secrets.js'
import { sipCredentialsMigration } from './0010-sip-credentials.js'
import { mfaMigration } from './0011-mfa.js'
import type { Migration } from './migration.js'

export type { Migration } from './migration.js'

/** Every migration, in the order it runs; append only, never reorder or rename. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  initialMigration,
  userSearchMigration,
  userCountMigration,
  usersCreatedAtRowidMigration,
  userActiveCountMigration,
  userRolesMigration,
  sessionFormerHashesMigration,
  auditChainKeyMigration,
  instanceSecretsMigration,
  sipCredentialsMigration,
  mfaMigration,
])
