import type { Kysely, Selectable } from 'kysely'
import type { SessionRecord, UserRecord } from '../domain/records.js'
import type { SessionRotation, Store, UserPatch } from '../domain/store.js'
import { guard, type StoreContext } from './context.js'
import { type Param, prepareQuery } from './prepared.js'
import { revokeLiveSessions, revokeRow } from './revocations.js'
import { rowToSession, rowToUser, sessionToRow, toMillis, userPatchToSet } from './row-mapping.js'
import type { Database, SessionsTable } from './schema.js'

const SESSION_COLUMNS = [
  'id',
  'user_id',
  'refresh_hash',
  'previous_refresh_hash',
  'rotated_at',
  'sealed_refresh_token',
  'former_refresh_hashes',
  'generation',
  'created_at',
  'last_used_at',
  'expires_at',
  'revoked_at',
  'ip',
  'user_agent',
  'amr',
] as const

/** What each dialect does its own way on the paths every refresh and bearer request takes. */
export interface SessionHotPaths {
  /** The session with its owner, read fresh (the store caches it where it can). */
  readSessionWithUser(id: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>
  /** The compare-and-swap of a rotation inside `trx`; true when it rotated. */
  rotateInTransaction(
    trx: Kysely<Database>,
    id: string,
    expectedHash: string,
    rotation: SessionRotation,
  ): boolean | Promise<boolean>
}

/** The hot paths over Kysely, compiled once (PostgreSQL). */
export function createKyselySessionPaths(db: Kysely<Database>): SessionHotPaths {
  // One statement for what every refresh and every bearer request reads: session and owner.
  const sessionWithUser = prepareQuery((id: Param<string>) =>
    db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(SESSION_COLUMNS.map((c) => `s.${c} as s_${c}` as const))
      .selectAll('u')
      .where('s.id', '=', id),
  )
  const rotate = prepareQuery(
    (
      refreshHash: Param<string>,
      previousRefreshHash: Param<string>,
      rotatedAt: Param<number>,
      sealedRefreshToken: Param<string>,
      formerRefreshHashes: Param<string>,
      generation: Param<number>,
      lastUsedAt: Param<number>,
      id: Param<string>,
      expectedHash: Param<string>,
      now: Param<number>,
    ) =>
      db
        .updateTable('sessions')
        .set({
          refresh_hash: refreshHash,
          previous_refresh_hash: previousRefreshHash,
          rotated_at: rotatedAt,
          sealed_refresh_token: sealedRefreshToken,
          former_refresh_hashes: formerRefreshHashes,
          generation,
          last_used_at: lastUsedAt,
        })
        .where('id', '=', id)
        .where('refresh_hash', '=', expectedHash)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now),
  )
  return {
    async readSessionWithUser(id) {
      const r = (await db.executeQuery(sessionWithUser(id))).rows[0]
      if (r === undefined) return undefined
      const session = Object.fromEntries(
        SESSION_COLUMNS.map((c) => [c, r[`s_${c}`]]),
      ) as Selectable<SessionsTable>
      return { session: rowToSession(session), user: rowToUser(r) }
    },
    async rotateInTransaction(trx, id, expectedHash, rotation) {
      const result = await trx.executeQuery(
        rotate(
          rotation.refreshHash,
          rotation.previousRefreshHash,
          toMillis(rotation.rotatedAt),
          rotation.sealedRefreshToken,
          rotation.formerRefreshHashes,
          rotation.generation,
          toMillis(rotation.lastUsedAt),
          id,
          expectedHash,
          toMillis(rotation.rotatedAt),
        ),
      )
      return Number(result.numAffectedRows ?? 0) === 1
    },
  }
}

/** What a successful login writes inside `trx`: the user's patch (last_login) and the session. */
export async function writeLogin(
  ctx: StoreContext,
  trx: Kysely<Database>,
  session: SessionRecord,
  userPatch: UserPatch,
): Promise<void> {
  await trx
    .updateTable('users')
    .set(userPatchToSet(userPatch, ctx.dialect.bool))
    .where('id', '=', session.userId)
    .execute()
  await trx.insertInto('sessions').values(sessionToRow(session)).execute()
}

/** Sessions and the access-token deny list: logins, refresh rotation, revocation, pruning. */
export function createSessionStore(
  ctx: StoreContext,
  hot: SessionHotPaths,
): Pick<
  Store,
  | 'recordLogin'
  | 'findSession'
  | 'findSessionWithUser'
  | 'listSessions'
  | 'rotateSession'
  | 'touchSession'
  | 'revokeSession'
  | 'revokeUserSessions'
  | 'denyAccessToken'
  | 'isAccessTokenDenied'
  | 'pruneExpired'
> {
  const { db, appendAudit } = ctx
  const { transaction } = ctx.dialect
  const lookups = ctx.lookups<{ session: SessionRecord; user: UserRecord }>()

  const sessionById = prepareQuery((id: Param<string>) =>
    db.selectFrom('sessions').selectAll().where('id', '=', id),
  )
  const deniedJti = prepareQuery((jti: Param<string>) =>
    db.selectFrom('denied_jtis').select('jti').where('jti', '=', jti),
  )

  return {
    recordLogin: (session, userPatch, audit) =>
      transaction(async (trx) => {
        await writeLogin(ctx, trx, session, userPatch)
        await appendAudit(trx, audit)
      }),

    findSession: (id) =>
      guard(async () => {
        const row = (await db.executeQuery(sessionById(id))).rows[0]
        return row === undefined ? undefined : rowToSession(row)
      }),

    findSessionWithUser: (id) => guard(() => lookups(id, () => hot.readSessionWithUser(id))),

    listSessions: (userId, now) =>
      guard(async () => {
        const rows = await db
          .selectFrom('sessions')
          .selectAll()
          .where('user_id', '=', userId)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', toMillis(now))
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .execute()
        return rows.map(rowToSession)
      }),

    rotateSession: (id, expectedHash, rotation, audit) =>
      transaction(async (trx) => {
        if (!(await hot.rotateInTransaction(trx, id, expectedHash, rotation))) return false
        await appendAudit(trx, audit)
        return true
      }),

    touchSession: (id, at) =>
      guard(async () => {
        await db
          .updateTable('sessions')
          .set({ last_used_at: toMillis(at) })
          .where('id', '=', id)
          .execute()
      }),

    revokeSession: (id, at, audit) => revokeRow(ctx, 'sessions', id, at, audit),

    revokeUserSessions: (userId, at, audit) =>
      transaction(async (trx) => {
        const count = await revokeLiveSessions(trx, userId, at)
        await appendAudit(trx, audit)
        return count
      }),

    denyAccessToken: (jti, expiresAt, audit) =>
      transaction(async (trx) => {
        await trx
          .insertInto('denied_jtis')
          .values({ jti, expires_at: toMillis(expiresAt) })
          .onConflict((oc) => oc.column('jti').doNothing())
          .execute()
        await appendAudit(trx, audit)
      }),

    isAccessTokenDenied: (jti) =>
      guard(async () => (await db.executeQuery(deniedJti(jti))).rows.length > 0),

    pruneExpired: (now) =>
      transaction(async (trx) => {
        const ms = toMillis(now)
        const sessions = await trx
          .deleteFrom('sessions')
          .where('expires_at', '<=', ms)
          .executeTakeFirst()
        const jtis = await trx
          .deleteFrom('denied_jtis')
          .where('expires_at', '<=', ms)
          .executeTakeFirst()
        // Second steps of logins and WebAuthn challenges live minutes; their rows go with them.
        const mfaTokens = await trx
          .deleteFrom('mfa_tokens')
          .where('expires_at', '<=', ms)
          .executeTakeFirst()
        const challenges = await trx
          .deleteFrom('webauthn_challenges')
          .where('expires_at', '<=', ms)
          .executeTakeFirst()
        return [sessions, jtis, mfaTokens, challenges].reduce(
          (n, r) => n + Number(r.numDeletedRows),
          0,
        )
      }),
  }
}
