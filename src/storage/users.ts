import type { Kysely } from 'kysely'
import type { Store } from '../domain/store.js'
import { UsersError } from '../errors.js'
import { bulkInsertUsers } from './bulk-insert-users.js'
import { guard, type StoreContext } from './context.js'
import { type Param, prepareQuery } from './prepared.js'
import { revokeLiveApiKeys, revokeLiveSessions } from './revocations.js'
import { rowToUser, toMillis, userPatchToSet, userToRow } from './row-mapping.js'
import type { Database } from './schema.js'

const LAST_ADMIN_MESSAGE = 'the last active admin cannot be deleted or demoted'

/** The user rows: inserts, point reads, updates with their guards, deletes, the export walk. */
export function createUserStore(
  ctx: StoreContext,
): Pick<
  Store,
  | 'insertUser'
  | 'insertFirstUser'
  | 'insertUsers'
  | 'findUserById'
  | 'findUserByUsername'
  | 'listUsersOldestFirst'
  | 'updateUser'
  | 'deleteUser'
> {
  const { db, dialect, appendAudit } = ctx
  const { bool, transaction } = dialect

  const userById = prepareQuery((id: Param<string>) =>
    db.selectFrom('users').selectAll().where('id', '=', id),
  )
  const userByUsername = prepareQuery((usernameLower: Param<string>) =>
    db.selectFrom('users').selectAll().where('username_lower', '=', usernameLower),
  )

  async function assertAnActiveAdmin(trx: Kysely<Database>): Promise<void> {
    const admin = await trx
      .selectFrom('user_roles')
      .select('user_id')
      .where('role', '=', 'admin')
      .where('active', '=', bool(true))
      .limit(1)
      .executeTakeFirst()
    if (admin === undefined) throw new UsersError('CONFLICT', { message: LAST_ADMIN_MESSAGE })
  }

  return {
    insertUser: (user, audit) =>
      transaction(async (trx) => {
        await trx.insertInto('users').values(userToRow(user, bool)).execute()
        await appendAudit(trx, audit)
      }),

    insertFirstUser: (user, audit) =>
      transaction(async (trx) => {
        await dialect.lock(trx, 'first-user')
        const any = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst()
        if (any !== undefined) return false
        await trx.insertInto('users').values(userToRow(user, bool)).execute()
        await appendAudit(trx, audit)
        return true
      }),

    insertUsers: (users, audit) =>
      transaction(async (trx) => {
        const { inserted, skipped } = await bulkInsertUsers(trx, dialect.name, users)
        await appendAudit(trx, typeof audit === 'function' ? audit(inserted) : audit)
        return {
          inserted: inserted.map((u) => u.username),
          skipped: skipped.map((u) => u.username),
        }
      }),

    findUserById: (id) =>
      guard(async () => {
        const row = (await db.executeQuery(userById(id))).rows[0]
        return row === undefined ? undefined : rowToUser(row)
      }),

    findUserByUsername: (username) =>
      guard(async () => {
        const row = (await db.executeQuery(userByUsername(username.toLowerCase()))).rows[0]
        return row === undefined ? undefined : rowToUser(row)
      }),

    listUsersOldestFirst: (after, limit) =>
      guard(async () => {
        let page = db
          .selectFrom('users')
          .selectAll()
          .orderBy('created_at', 'asc')
          .orderBy('id', 'asc')
          .limit(limit)
        if (after !== undefined) {
          // The range on created_at is what the index serves; the id only breaks ties.
          const createdAt = toMillis(after.createdAt)
          page = page
            .where('created_at', '>=', createdAt)
            .where((eb) => eb.or([eb('created_at', '>', createdAt), eb('id', '>', after.id)]))
        }
        return (await page.execute()).map(rowToUser)
      }),

    updateUser: (id, patch, options, audit) =>
      transaction(async (trx) => {
        // Two concurrent demotions must not both see the other admin still standing.
        if (options.keepAnActiveAdmin) await dialect.lock(trx, 'admin-guard')
        const row = await trx
          .updateTable('users')
          .set(userPatchToSet(patch, bool))
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst()
        if (row === undefined) return undefined
        if (options.revokeSessionsAt !== undefined) {
          await revokeLiveSessions(trx, id, options.revokeSessionsAt)
        }
        if (options.keepAnActiveAdmin) await assertAnActiveAdmin(trx)
        const revokedKeys = options.revokeApiKeys
          ? options.revokeApiKeys.audit(await revokeLiveApiKeys(trx, id, options.revokeApiKeys.at))
          : []
        await appendAudit(trx, [...audit, ...revokedKeys])
        return rowToUser(row)
      }),

    deleteUser: (id, options, audit) =>
      transaction(async (trx) => {
        if (options.keepAnActiveAdmin) await dialect.lock(trx, 'admin-guard')
        if (options.revokeSessionsAt !== undefined) {
          await revokeLiveSessions(trx, id, options.revokeSessionsAt)
        }
        // Sessions and API keys go with the user (ON DELETE CASCADE); audit rows stay.
        const deleted = await trx
          .deleteFrom('users')
          .where('id', '=', id)
          .returning('id')
          .executeTakeFirst()
        if (deleted === undefined) return false
        if (options.keepAnActiveAdmin) await assertAnActiveAdmin(trx)
        await appendAudit(trx, audit)
        return true
      }),
  }
}
