import type { Kysely } from 'kysely'
import type { Dialect } from '../schema.js'

/**
 * One schema change. Migrations are listed in code (never discovered from a folder), run in list
 * order, once each, and recorded by `name` in `users_core_migrations`.
 */
export interface Migration {
  /** Stable, sortable, never renamed: `0001_initial`. */
  readonly name: string
  /** Applies the change; runs inside the migrator's transaction and lock. */
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>
}
