import type { AuditChainKey } from '../domain/records.js'
import { AUDIT_CHAIN_KEY_MIGRATION, type MigrationResult, type Store } from '../domain/store.js'
import { UsersError } from '../errors.js'
import type { Logger } from '../lib/logger.js'
import { auditKeyCheck, sameTag } from './chain.js'

/**
 * Hands the chain key to the store and checks it against the chain at start: a sealed chain
 * without a key, or with another key, stops start-up (appending would break the seal for
 * good). An unsealed chain is sealed only when the migration that made room for the seal ran
 * just now: a new database, or the upgrade itself. Any later unsealed state could be an
 * attacker's reset, so it is left for an operator to check and seal.
 */
export async function openAuditChain(
  store: Store,
  key: AuditChainKey | undefined,
  migrations: MigrationResult,
  logger: Logger,
): Promise<void> {
  store.setAuditChainKey(key)
  const state = await store.auditChainState()
  if (key === undefined) {
    if (state.headTag !== null) {
      throw new UsersError('INTERNAL_ERROR', {
        message:
          'the audit chain is sealed but neither audit.chain_key nor jwt.key_encryption_secret is set',
      })
    }
    return
  }
  if (state.keyCheck !== null && !sameTag(state.keyCheck, auditKeyCheck(key))) {
    throw new UsersError('INTERNAL_ERROR', {
      message:
        'the audit chain was sealed with a different key than audit.chain_key (or jwt.key_encryption_secret) gives',
    })
  }
  if (state.headTag !== null) return
  if (migrations.applied.includes(AUDIT_CHAIN_KEY_MIGRATION)) {
    await store.sealAuditChain()
    if (state.headSeq > 0) {
      logger.info({ seq: state.headSeq }, 'audit chain sealed with the chain key at its head')
    }
    return
  }
  logger.warn(
    { seq: state.headSeq },
    'a chain key is set but the audit chain is not sealed: check it with `users-core audit verify`, then seal it with `users-core audit seal`',
  )
}
