import type { Kysely } from 'kysely'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/**
 * `instance_secrets`: keys the instances of one database share and generate on first use (the
 * field-sealing key when `jwt.key_encryption_secret` is unset). A row is written once, never
 * changed.
 */
export const instanceSecretsMigration: Migration = {
  name: '0009_instance_secrets',
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    const millis = dialect === 'postgres' ? 'bigint' : 'integer'
    await db.schema
      .createTable('instance_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('created_at', millis, (c) => c.notNull())
      .execute()
  },
}
