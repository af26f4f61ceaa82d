import type { CompiledQuery, Kysely, RawBuilder, SqlBool } from 'kysely'
import type { AuditChainKey } from '../domain/records.js'
import type { AuditWriter } from './audit-writer.js'
import { mapDatabaseError } from './db-errors.js'
import type { Database, Dialect } from './schema.js'

/** Runs `work` atomically on a transaction of its own (or a share of one: SQLite group commit). */
export type Transaction = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>

/** A task that exactly one caller at a time, across every instance, may run. */
export type StoreLock = 'first-user' | 'bootstrap-keys' | 'admin-guard'

/** What differs between SQLite and PostgreSQL, in one place. */
export interface StoreDialect {
  readonly name: Dialect
  /** A boolean as the dialect stores it. */
  bool(value: boolean): number | boolean
  /** How writes become atomic: see `sqlite/group-commit.ts` and `postgres/open.ts`. */
  transaction: Transaction
  /** Serialises `lock` across instances for the rest of `trx`. */
  lock(trx: Kysely<Database>, lock: StoreLock): Promise<void>
  /** Whether a read-then-write of the audit chain row must lock it (SELECT ... FOR UPDATE). */
  readonly lockChainRow: boolean
  /** The key that orders users after created_at and fetches a listed page. */
  readonly userKey: RawBuilder<string | number>
  /** A condition that narrows a search to candidate rows first (it never decides alone). */
  searchCandidates(needle: string): RawBuilder<SqlBool> | undefined
}

/** The answers of a hot point lookup, frozen; cached while the database is unchanged (SQLite). */
export type Lookups<V> = (key: string, load: () => Promise<V | undefined>) => Promise<V | undefined>

/** What every part of the store is built from. */
export interface StoreContext {
  db: Kysely<Database>
  dialect: StoreDialect
  /** The key the audit chain is tagged with (undefined: unkeyed). */
  chain: { key: AuditChainKey | undefined }
  appendAudit: AuditWriter
  /** Reads that grow with the data, each query's rows in order, in one snapshot where it can. */
  readSlow(queries: readonly CompiledQuery[]): Promise<unknown[][]>
  lookups<V extends object>(): Lookups<V>
}

/** Runs `work`, turning driver errors into `UsersError`s. */
export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw mapDatabaseError(error) ?? error
  }
}

/** The `n` of a count query's one row. */
export function countOf(rows: unknown[] | undefined): number {
  const row = rows?.[0] as { n: number | string } | undefined
  if (row === undefined) throw new Error('a count query returned no row')
  return Number(row.n)
}
