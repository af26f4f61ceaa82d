import type { Store } from '../domain/store.js'
import { guard, type StoreContext } from './context.js'
import { rowToSigningKey, signingKeyToRow, toMillis } from './row-mapping.js'

/** JWT signing keys: the first set, rotation (exactly one winner), pruning of retired keys. */
export function createSigningKeyStore(
  ctx: StoreContext,
): Pick<
  Store,
  'listSigningKeys' | 'bootstrapSigningKeys' | 'rotateSigningKeys' | 'pruneSigningKeys'
> {
  const { db, dialect, appendAudit } = ctx
  /** Every stored key, oldest first (the order rotation and the JWKS rely on). */
  const allKeys = async (q: typeof db) =>
    (
      await q
        .selectFrom('signing_keys')
        .selectAll()
        .orderBy('created_at', 'asc')
        .orderBy('kid', 'asc')
        .execute()
    ).map(rowToSigningKey)

  return {
    listSigningKeys: () => guard(() => allKeys(db)),

    bootstrapSigningKeys: (keys) =>
      dialect.transaction(async (trx) => {
        await dialect.lock(trx, 'bootstrap-keys')
        const any = await trx.selectFrom('signing_keys').select('kid').limit(1).executeTakeFirst()
        if (any === undefined && keys.length > 0) {
          await trx.insertInto('signing_keys').values(keys.map(signingKeyToRow)).execute()
        }
        return allKeys(trx)
      }),

    rotateSigningKeys: (rotation, audit) =>
      dialect.transaction(async (trx) => {
        // The CAS: only the caller that flips the next key from unpublished-only to active wins;
        // a concurrent caller blocks on the row, then sees activates_at set and matches nothing.
        const activated = await trx
          .updateTable('signing_keys')
          .set({ activates_at: toMillis(rotation.activatesAt) })
          .where('kid', '=', rotation.nextKid)
          .where('activates_at', 'is', null)
          .executeTakeFirst()
        if (Number(activated.numUpdatedRows) !== 1) return false
        if (rotation.retiringKid !== null) {
          await trx
            .updateTable('signing_keys')
            .set({ expires_at: toMillis(rotation.retiredExpiresAt) })
            .where('kid', '=', rotation.retiringKid)
            .where('expires_at', 'is', null)
            .execute()
        }
        await trx.insertInto('signing_keys').values(signingKeyToRow(rotation.newNext)).execute()
        await appendAudit(trx, audit)
        return true
      }),

    pruneSigningKeys: (now) =>
      guard(async () => {
        const result = await db
          .deleteFrom('signing_keys')
          .where('expires_at', 'is not', null)
          .where('expires_at', '<=', toMillis(now))
          .executeTakeFirst()
        return Number(result.numDeletedRows)
      }),
  }
}
