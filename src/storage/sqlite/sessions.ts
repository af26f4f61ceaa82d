import type { SessionRecord, UserRecord } from '../../domain/records.js'
import { amrOfColumn } from '../row-mapping.js'
import type { SessionHotPaths } from '../sessions.js'
import type { SqliteConnection } from './open.js'

/** The session-with-owner row as the join below names its columns. */
interface SessionWithUserRow {
  id: string
  user_id: string
  refresh_hash: string
  previous_refresh_hash: string | null
  rotated_at: number | null
  sealed_refresh_token: string | null
  former_refresh_hashes: string
  generation: number
  created_at: number
  last_used_at: number
  expires_at: number
  revoked_at: number | null
  ip: string | null
  user_agent: string | null
  amr: string
  u_username: string
  u_email: string | null
  u_display_name: string | null
  u_roles: string
  u_active: number
  u_password_hash: string
  u_created_at: number
  u_updated_at: number
  u_last_login: number | null
}

const SESSION_WITH_USER = `select s.id, s.user_id, s.refresh_hash, s.previous_refresh_hash,
    s.rotated_at, s.sealed_refresh_token, s.former_refresh_hashes, s.generation, s.created_at,
    s.last_used_at, s.expires_at, s.revoked_at, s.ip, s.user_agent, s.amr,
    u.username as u_username, u.email as u_email, u.display_name as u_display_name,
    u.roles as u_roles, u.active as u_active, u.password_hash as u_password_hash,
    u.created_at as u_created_at, u.updated_at as u_updated_at, u.last_login as u_last_login
  from sessions s join users u on u.id = s.user_id
  where s.id = ?`

// The compare-and-swap of a refresh: only while live and still holding the presented hash.
const ROTATE = `update sessions set refresh_hash = ?, previous_refresh_hash = ?, rotated_at = ?,
    sealed_refresh_token = ?, former_refresh_hashes = ?, generation = ?, last_used_at = ?
  where id = ? and refresh_hash = ? and revoked_at is null and expires_at > ?`

const dateOrNull = (ms: number | null) => (ms === null ? null : new Date(ms))

/**
 * What every refresh and bearer request does to sessions, on statements prepared once: the
 * session with its owner read in one row, and the rotation with its audit row in the caller's
 * group commit.
 */
export function createSqliteSessionPaths(connection: SqliteConnection): SessionHotPaths {
  const sessionWithUser = connection.prepare(SESSION_WITH_USER)
  const rotate = connection.prepare(ROTATE)
  return {
    readSessionWithUser: (id) =>
      connection.exclusive(() => {
        const r = sessionWithUser().get(id) as SessionWithUserRow | undefined
        if (r === undefined) return undefined
        const session: SessionRecord = {
          id: r.id,
          userId: r.user_id,
          refreshHash: r.refresh_hash,
          previousRefreshHash: r.previous_refresh_hash,
          rotatedAt: dateOrNull(r.rotated_at),
          sealedRefreshToken: r.sealed_refresh_token,
          formerRefreshHashes: r.former_refresh_hashes,
          generation: r.generation,
          createdAt: new Date(r.created_at),
          lastUsedAt: new Date(r.last_used_at),
          expiresAt: new Date(r.expires_at),
          revokedAt: dateOrNull(r.revoked_at),
          ip: r.ip,
          userAgent: r.user_agent,
          amr: amrOfColumn(r.amr),
        }
        const user: UserRecord = {
          id: r.user_id,
          username: r.u_username,
          email: r.u_email,
          displayName: r.u_display_name,
          roles: JSON.parse(r.u_roles) as string[],
          active: r.u_active !== 0,
          passwordHash: r.u_password_hash,
          createdAt: new Date(r.u_created_at),
          updatedAt: new Date(r.u_updated_at),
          lastLogin: dateOrNull(r.u_last_login),
        }
        return { session, user }
      }),

    rotateInTransaction: (_trx, id, expectedHash, rotation) => {
      const at = rotation.rotatedAt.getTime()
      const lastUsed = rotation.lastUsedAt.getTime()
      const result = rotate().run(
        rotation.refreshHash,
        rotation.previousRefreshHash,
        at,
        rotation.sealedRefreshToken,
        rotation.formerRefreshHashes,
        rotation.generation,
        lastUsed,
        id,
        expectedHash,
        at,
      )
      return result.changes === 1
    },
  }
}
