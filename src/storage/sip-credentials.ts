import type { Insertable, Selectable } from 'kysely'
import type { SipCredentialRecord } from '../domain/records.js'
import type { Store } from '../domain/store.js'
import { guard, type StoreContext } from './context.js'
import { revokeRow } from './revocations.js'
import { rowToUser, toDate, toDateOrNull, toMillis, toMillisOrNull } from './row-mapping.js'
import type { SipCredentialsTable } from './schema.js'

/** SIP credentials (SPEC §11): creation, the digest-time lookup with the user, revocation. */
export function createSipCredentialStore(
  ctx: StoreContext,
): Pick<
  Store,
  | 'insertSipCredential'
  | 'findSipCredentialByUsername'
  | 'findSipCredentialById'
  | 'listSipCredentials'
  | 'revokeSipCredential'
  | 'touchSipCredential'
> {
  const { db, appendAudit } = ctx
  return {
    insertSipCredential: (credential, audit) =>
      ctx.dialect.transaction(async (trx) => {
        await trx.insertInto('sip_credentials').values(sipCredentialToRow(credential)).execute()
        await appendAudit(trx, audit)
      }),

    findSipCredentialByUsername: (sipUsername) =>
      guard(async () => {
        const r = await db
          .selectFrom('sip_credentials as c')
          .innerJoin('users as u', 'u.id', 'c.user_id')
          .select([
            'c.id as c_id',
            'c.user_id as c_user_id',
            'c.label as c_label',
            'c.sip_username as c_sip_username',
            'c.sip_username_lower as c_sip_username_lower',
            'c.realm as c_realm',
            'c.sealed_ha1s as c_sealed_ha1s',
            'c.created_at as c_created_at',
            'c.last_used_at as c_last_used_at',
            'c.revoked_at as c_revoked_at',
          ])
          .selectAll('u')
          .where('c.sip_username_lower', '=', sipUsername.toLowerCase())
          .executeTakeFirst()
        // The digest is computed over the name as stored: another case is another name.
        if (r === undefined || r.c_sip_username !== sipUsername) return undefined
        return {
          credential: rowToSipCredential({
            id: r.c_id,
            user_id: r.c_user_id,
            label: r.c_label,
            sip_username: r.c_sip_username,
            sip_username_lower: r.c_sip_username_lower,
            realm: r.c_realm,
            sealed_ha1s: r.c_sealed_ha1s,
            created_at: r.c_created_at,
            last_used_at: r.c_last_used_at,
            revoked_at: r.c_revoked_at,
          }),
          user: rowToUser(r),
        }
      }),

    findSipCredentialById: (id) =>
      guard(async () => {
        const row = await db
          .selectFrom('sip_credentials')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst()
        return row === undefined ? undefined : rowToSipCredential(row)
      }),

    listSipCredentials: (userId) =>
      guard(async () => {
        const rows = await db
          .selectFrom('sip_credentials')
          .selectAll()
          .where('user_id', '=', userId)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .execute()
        return rows.map(rowToSipCredential)
      }),

    revokeSipCredential: (id, at, audit) => revokeRow(ctx, 'sip_credentials', id, at, audit),

    touchSipCredential: (id, at, staleBefore) =>
      guard(async () => {
        await db
          .updateTable('sip_credentials')
          .set({ last_used_at: toMillis(at) })
          .where('id', '=', id)
          .where((eb) =>
            eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', toMillis(staleBefore))]),
          )
          .execute()
      }),
  }
}

function sipCredentialToRow(c: SipCredentialRecord) {
  return {
    id: c.id,
    user_id: c.userId,
    label: c.label,
    sip_username: c.sipUsername,
    sip_username_lower: c.sipUsername.toLowerCase(),
    realm: c.realm,
    sealed_ha1s: JSON.stringify(c.sealedHa1s),
    created_at: toMillis(c.createdAt),
    last_used_at: toMillisOrNull(c.lastUsedAt),
    revoked_at: toMillisOrNull(c.revokedAt),
  } satisfies Insertable<SipCredentialsTable>
}

function rowToSipCredential(r: Selectable<SipCredentialsTable>): SipCredentialRecord {
  return {
    id: r.id,
    userId: r.user_id,
    label: r.label,
    sipUsername: r.sip_username,
    realm: r.realm,
    sealedHa1s: JSON.parse(r.sealed_ha1s) as Record<string, string>,
    createdAt: toDate(r.created_at),
    lastUsedAt: toDateOrNull(r.last_used_at),
    revokedAt: toDateOrNull(r.revoked_at),
  }
}
