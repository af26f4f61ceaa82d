import { CompiledQuery, type Kysely } from 'kysely'
import type { UserRecord } from '../domain/records.js'
import { userToRow } from './row-mapping.js'
import type { Database, Dialect } from './schema.js'

const COLUMNS = [
  'id',
  'username',
  'username_lower',
  'email',
  'email_lower',
  'display_name',
  'roles',
  'active',
  'password_hash',
  'created_at',
  'updated_at',
  'last_login',
] as const

/** Rows per INSERT: 12 parameters each stays far below SQLite's 32,766 and pg's 65,535. */
export const BULK_CHUNK_ROWS = 500

/**
 * Inserts users in multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING id` statements on the
 * caller's transaction. Hand-written SQL: the text depends only on the row count, so a 1M-row
 * import reuses two statement texts instead of building 2,000 large query trees.
 */
export async function bulkInsertUsers(
  trx: Kysely<Database>,
  dialect: Dialect,
  users: readonly UserRecord[],
): Promise<{ inserted: UserRecord[]; skipped: UserRecord[] }> {
  const bool = dialect === 'sqlite' ? (b: boolean) => (b ? 1 : 0) : (b: boolean) => b
  const insertedIds = new Map<string, number>()
  const texts = new Map<number, string>()
  for (let start = 0; start < users.length; start += BULK_CHUNK_ROWS) {
    const chunk = users.slice(start, start + BULK_CHUNK_ROWS)
    let text = texts.get(chunk.length)
    if (text === undefined) {
      text = insertText(dialect, chunk.length)
      texts.set(chunk.length, text)
    }
    const params: unknown[] = []
    for (const user of chunk) {
      const row = userToRow(user, bool)
      for (const column of COLUMNS) params.push(row[column])
    }
    const result = await trx.executeQuery<{ id: string }>(CompiledQuery.raw(text, params))
    for (const { id } of result.rows) insertedIds.set(id, (insertedIds.get(id) ?? 0) + 1)
  }
  // Walk the input in order so a duplicate inside the batch counts as skipped, not inserted.
  const inserted: UserRecord[] = []
  const skipped: UserRecord[] = []
  for (const user of users) {
    const left = insertedIds.get(user.id) ?? 0
    if (left > 0) {
      insertedIds.set(user.id, left - 1)
      inserted.push(user)
    } else skipped.push(user)
  }
  return { inserted, skipped }
}

function insertText(dialect: Dialect, rows: number): string {
  let n = 0
  const tuple = () =>
    `(${COLUMNS.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`
  const values = Array.from({ length: rows }, tuple).join(', ')
  return `insert into users (${COLUMNS.join(', ')}) values ${values} on conflict do nothing returning id`
}
