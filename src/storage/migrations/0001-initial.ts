import { type Kysely, sql } from 'kysely'
import { GENESIS_HASH } from '../../audit/chain.js'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/** The first schema: users, sessions, API keys, signing keys, deny list and the audit chain. */
export const initialMigration: Migration = {
  name: '0001_initial',
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    // Same logical schema on both dialects; only the physical types differ.
    const millis = dialect === 'postgres' ? 'bigint' : 'integer'
    const bool = dialect === 'postgres' ? 'boolean' : 'integer'
    const s = db.schema

    await s
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('username_lower', 'text', (c) => c.notNull())
      .addColumn('email', 'text')
      .addColumn('email_lower', 'text')
      .addColumn('display_name', 'text')
      .addColumn('roles', 'text', (c) => c.notNull())
      .addColumn('active', bool, (c) => c.notNull())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', millis, (c) => c.notNull())
      .addColumn('updated_at', millis, (c) => c.notNull())
      .addColumn('last_login', millis)
      .execute()
    // Named unique indexes: the names are how a PostgreSQL 23505 tells us which field clashed.
    await s
      .createIndex('users_username_lower_uq')
      .on('users')
      .column('username_lower')
      .unique()
      .execute()
    await s.createIndex('users_email_lower_uq').on('users').column('email_lower').unique().execute()
    await s.createIndex('users_created_at_idx').on('users').columns(['created_at', 'id']).execute()

    await s
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('refresh_hash', 'text', (c) => c.notNull())
      .addColumn('previous_refresh_hash', 'text')
      .addColumn('rotated_at', millis)
      .addColumn('sealed_refresh_token', 'text')
      .addColumn('generation', 'integer', (c) => c.notNull())
      .addColumn('created_at', millis, (c) => c.notNull())
      .addColumn('last_used_at', millis, (c) => c.notNull())
      .addColumn('expires_at', millis, (c) => c.notNull())
      .addColumn('revoked_at', millis)
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .execute()
    await s.createIndex('sessions_user_id_idx').on('sessions').column('user_id').execute()
    await s.createIndex('sessions_expires_at_idx').on('sessions').column('expires_at').execute()

    await s
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull())
      .addColumn('key_prefix', 'text', (c) => c.notNull())
      .addColumn('permissions', 'text', (c) => c.notNull())
      .addColumn('expires_at', millis)
      .addColumn('created_at', millis, (c) => c.notNull())
      .addColumn('last_used_at', millis)
      .addColumn('revoked_at', millis)
      .execute()
    await s.createIndex('api_keys_key_hash_uq').on('api_keys').column('key_hash').unique().execute()
    // A name is unique per owner among live keys only: a revoked key frees its name (SPEC §5).
    await s
      .createIndex('api_keys_user_id_name_uq')
      .on('api_keys')
      .columns(['user_id', 'name'])
      .unique()
      .where(sql.ref('revoked_at'), 'is', null)
      .execute()

    await s
      .createTable('signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('algorithm', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_key', 'text', (c) => c.notNull())
      .addColumn('created_at', millis, (c) => c.notNull())
      .addColumn('activates_at', millis)
      .addColumn('expires_at', millis)
      .execute()

    await s
      .createTable('denied_jtis')
      .addColumn('jti', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', millis, (c) => c.notNull())
      .execute()
    await s
      .createIndex('denied_jtis_expires_at_idx')
      .on('denied_jtis')
      .column('expires_at')
      .execute()

    // No FK on user_id: audit events outlive the users they describe.
    await s
      .createTable('audit_events')
      .addColumn('seq', millis, (c) => c.primaryKey())
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('at', millis, (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('request_id', 'text')
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute()
    await s.createIndex('audit_events_at_idx').on('audit_events').column('at').execute()
    await s
      .createIndex('audit_events_user_id_idx')
      .on('audit_events')
      .columns(['user_id', 'seq'])
      .execute()
    await s
      .createIndex('audit_events_type_idx')
      .on('audit_events')
      .columns(['type', 'seq'])
      .execute()

    await s
      .createTable('audit_chain')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('head_seq', millis, (c) => c.notNull())
      .addColumn('head_hash', 'text', (c) => c.notNull())
      .addColumn('anchor_seq', millis, (c) => c.notNull())
      .addColumn('anchor_hash', 'text', (c) => c.notNull())
      .execute()
    await sql`insert into audit_chain (id, head_seq, head_hash, anchor_seq, anchor_hash)
      values (1, 0, ${GENESIS_HASH}, 0, ${GENESIS_HASH})`.execute(db)
  },
}
