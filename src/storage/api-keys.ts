import type { ApiKeyRecord, UserRecord } from '../domain/records.js'
import type { Store } from '../domain/store.js'
import { guard, type StoreContext } from './context.js'
import { type Param, prepareQuery } from './prepared.js'
import { revokeRow } from './revocations.js'
import { apiKeyToRow, rowToApiKey, rowToUser, toMillis } from './row-mapping.js'

/** API keys: creation, the per-request lookup by hash with its owner, revocation, last use. */
export function createApiKeyStore(
  ctx: StoreContext,
): Pick<
  Store,
  | 'insertApiKey'
  | 'findApiKeyByHash'
  | 'findApiKeyById'
  | 'listApiKeys'
  | 'revokeApiKey'
  | 'touchApiKey'
> {
  const { db, appendAudit } = ctx
  const lookups = ctx.lookups<{ key: ApiKeyRecord; owner: UserRecord }>()

  // Hot paths, compiled once.
  const apiKeyWithOwner = prepareQuery((keyHash: Param<string>) =>
    db
      .selectFrom('api_keys as k')
      .innerJoin('users as u', 'u.id', 'k.user_id')
      .select([
        'k.id as k_id',
        'k.user_id as k_user_id',
        'k.name as k_name',
        'k.key_hash as k_key_hash',
        'k.key_prefix as k_key_prefix',
        'k.permissions as k_permissions',
        'k.expires_at as k_expires_at',
        'k.created_at as k_created_at',
        'k.last_used_at as k_last_used_at',
        'k.revoked_at as k_revoked_at',
      ])
      .selectAll('u')
      .where('k.key_hash', '=', keyHash),
  )
  const touchKey = prepareQuery(
    (at: Param<number>, id: Param<string>, staleBefore: Param<number>) =>
      db
        .updateTable('api_keys')
        .set({ last_used_at: at })
        .where('id', '=', id)
        .where((eb) =>
          eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', staleBefore)]),
        ),
  )

  return {
    insertApiKey: (key, audit) =>
      ctx.dialect.transaction(async (trx) => {
        await trx.insertInto('api_keys').values(apiKeyToRow(key)).execute()
        await appendAudit(trx, audit)
      }),

    findApiKeyByHash: (keyHash) =>
      guard(() =>
        lookups(keyHash, async () => {
          const r = (await db.executeQuery(apiKeyWithOwner(keyHash))).rows[0]
          if (r === undefined) return undefined
          return {
            key: rowToApiKey({
              id: r.k_id,
              user_id: r.k_user_id,
              name: r.k_name,
              key_hash: r.k_key_hash,
              key_prefix: r.k_key_prefix,
              permissions: r.k_permissions,
              expires_at: r.k_expires_at,
              created_at: r.k_created_at,
              last_used_at: r.k_last_used_at,
              revoked_at: r.k_revoked_at,
            }),
            owner: rowToUser(r),
          }
        }),
      ),

    findApiKeyById: (id) =>
      guard(async () => {
        const row = await db
          .selectFrom('api_keys')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst()
        return row === undefined ? undefined : rowToApiKey(row)
      }),

    listApiKeys: (userId) =>
      guard(async () => {
        const rows = await db
          .selectFrom('api_keys')
          .selectAll()
          .where('user_id', '=', userId)
          .where('revoked_at', 'is', null)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .execute()
        return rows.map(rowToApiKey)
      }),

    revokeApiKey: (id, at, audit) => revokeRow(ctx, 'api_keys', id, at, audit),

    touchApiKey: (id, at, staleBefore) =>
      guard(async () => {
        await db.executeQuery(touchKey(toMillis(at), id, toMillis(staleBefore)))
      }),
  }
}
