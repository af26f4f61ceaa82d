import type { Kysely } from 'kysely'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/**
 * Multi-factor authentication (SPEC §12): second factors, recovery codes, the pending second
 * steps of logins and WebAuthn registration challenges, each going with its user (ON DELETE
 * CASCADE); and `sessions.amr`, so a refresh carries the methods of the login. The constant
 * default adds the column without rewriting the table on either database.
 */
export const mfaMigration: Migration = {
  name: '0011_mfa',
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    const millis = dialect === 'postgres' ? 'bigint' : 'integer'
    const s = db.schema
    await s
      .alterTable('sessions')
      .addColumn('amr', 'text', (c) => c.notNull().defaultTo(''))
      .execute()

    await s
      .createTable('mfa_factors')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('totp_secret', 'text')
      .addColumn('totp_last_step', millis)
      .addColumn('credential_id', 'text')
      .addColumn('public_key', 'text')
      .addColumn('sign_count', millis)
      .addColumn('transports', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('created_at', millis, (c) => c.notNull())
      .addColumn('confirmed_at', millis)
      .addColumn('last_used_at', millis)
      .execute()
    await s.createIndex('mfa_factors_user_id_idx').on('mfa_factors').column('user_id').execute()
    // Named: a PostgreSQL 23505 names the field that clashed by its index.
    await s
      .createIndex('mfa_factors_credential_id_uq')
      .on('mfa_factors')
      .column('credential_id')
      .unique()
      .execute()

    await s
      .createTable('mfa_recovery_codes')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', millis, (c) => c.notNull())
      .addColumn('used_at', millis)
      .addPrimaryKeyConstraint('mfa_recovery_codes_pk', ['user_id', 'code_hash'])
      .execute()

    await s
      .createTable('mfa_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('ip', 'text')
      .addColumn('created_at', millis, (c) => c.notNull())
      .addColumn('expires_at', millis, (c) => c.notNull())
      .addColumn('consumed_at', millis)
      .addColumn('webauthn_challenge', 'text')
      .execute()
    await s.createIndex('mfa_tokens_expires_at_idx').on('mfa_tokens').column('expires_at').execute()

    await s
      .createTable('webauthn_challenges')
      .addColumn('challenge_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('expires_at', millis, (c) => c.notNull())
      .addColumn('consumed_at', millis)
      .execute()
    await s
      .createIndex('webauthn_challenges_expires_at_idx')
      .on('webauthn_challenges')
      .column('expires_at')
      .execute()
  },
}
