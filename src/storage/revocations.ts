import type { Kysely } from 'kysely'
import type { AuditEventInput } from '../domain/records.js'
import type { StoreContext } from './context.js'
import { toMillis } from './row-mapping.js'
import type { Database } from './schema.js'

// Revocations more than one aggregate writes: a user change revokes sessions and keys.

/** Revokes every live session of a user at `at` but `keepSessionId`; returns how many. */
export async function revokeLiveSessions(
  trx: Kysely<Database>,
  userId: string,
  at: Date,
  keepSessionId?: string,
): Promise<number> {
  const ms = toMillis(at)
  let query = trx
    .updateTable('sessions')
    .set({ revoked_at: ms })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', ms)
  if (keepSessionId !== undefined) query = query.where('id', '!=', keepSessionId)
  return Number((await query.executeTakeFirst()).numUpdatedRows)
}

/** Revokes every live API key of a user at `at`; returns their ids and names. */
export function revokeLiveApiKeys(trx: Kysely<Database>, userId: string, at: Date) {
  return trx
    .updateTable('api_keys')
    .set({ revoked_at: toMillis(at) })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returning(['id', 'name'])
    .execute()
}

/** Sets revoked_at once (false when unknown or already revoked), with its audit events. */
export function revokeRow(
  ctx: StoreContext,
  table: 'sessions' | 'api_keys' | 'sip_credentials',
  id: string,
  at: Date,
  audit: AuditEventInput[],
): Promise<boolean> {
  return ctx.dialect.transaction(async (trx) => {
    const result = await trx
      .updateTable(table)
      .set({ revoked_at: toMillis(at) })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) === 0) return false
    await ctx.appendAudit(trx, audit)
    return true
  })
}
