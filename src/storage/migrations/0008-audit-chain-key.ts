import type { Kysely } from 'kysely'
import { AUDIT_CHAIN_KEY_MIGRATION } from '../../domain/store.js'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/**
 * Room beside the chain head for its HMAC seal: `head_tag` (the keyed tag of the chain up to
 * the head), `keyed_seq` and `keyed_tag` (where keying started, or the tag at the pruning
 * anchor once retention passed it) and `key_check` (tells a wrong key at start). All null on an
 * unkeyed chain; the event rows are unchanged, so chains written before still verify.
 */
export const auditChainKeyMigration: Migration = {
  name: AUDIT_CHAIN_KEY_MIGRATION,
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    const seq = dialect === 'postgres' ? 'bigint' : 'integer'
    // One column a statement: SQLite's ALTER TABLE adds one at a time.
    await db.schema.alterTable('audit_chain').addColumn('head_tag', 'text').execute()
    await db.schema.alterTable('audit_chain').addColumn('keyed_seq', seq).execute()
    await db.schema.alterTable('audit_chain').addColumn('keyed_tag', 'text').execute()
    await db.schema.alterTable('audit_chain').addColumn('key_check', 'text').execute()
  },
}
