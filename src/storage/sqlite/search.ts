import { type RawBuilder, type SqlBool, sql } from 'kysely'

/**
 * The users whose trigram index entry holds `needle` (migration 0002), for a search of 3+
 * characters; the LIKE still decides, so results are exactly those of the scan. FTS5 reads its
 * query up to a NUL ("unterminated string"), so such a needle gets none.
 */
export function trigramCandidates(needle: string): RawBuilder<SqlBool> | undefined {
  if ([...needle].length < 3 || needle.includes('\u0000')) return undefined
  const phrase = `"${needle.replace(/"/g, '""')}"`
  return sql<SqlBool>`users.rowid in (select rowid from users_search where users_search match ${phrase})`
}
