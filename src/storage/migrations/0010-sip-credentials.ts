import { type Kysely, sql } from 'kysely'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/**
 * `sip_credentials` (SPEC §11): per-device SIP credentials of a user, deleted with the user. Only
 * sealed HA1 digests are kept, never the secret.
 */
export const sipCredentialsMigration: Migration = {
  name: '0010_sip_credentials',
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    const millis = dialect === 'postgres' ? 'bigint' : 'integer'
    const s = db.schema
    await s
      .createTable('sip_credentials')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('sip_username', 'text', (c) => c.notNull())
      .addColumn('sip_username_lower', 'text', (c) => c.notNull())
      .addColumn('realm', 'text', (c) => c.notNull())
      .addColumn('sealed_ha1s', 'text', (c) => c.notNull())
      .addColumn('created_at', millis, (c) => c.notNull())
      .addColumn('last_used_at', millis)
      .addColumn('revoked_at', millis)
      .execute()
    // A SIP username is never handed to another device, even after a revoke: phones and
    // registrar bindings that still carry it must not start speaking for someone else.
    await s
      .createIndex('sip_credentials_sip_username_lower_uq')
      .on('sip_credentials')
      .column('sip_username_lower')
      .unique()
      .execute()
    // A label is unique per user among live credentials only: a revoked one frees its label.
    await s
      .createIndex('sip_credentials_user_id_label_uq')
      .on('sip_credentials')
      .columns(['user_id', 'label'])
      .unique()
      .where(sql.ref('revoked_at'), 'is', null)
      .execute()
  },
}
