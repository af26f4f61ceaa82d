import { type Expression, type ExpressionBuilder, type Selectable, type SqlBool, sql } from 'kysely'
import type { Store, UserQuery } from '../domain/store.js'
import { countOf, guard, type StoreContext } from './context.js'
import { rowToUser } from './row-mapping.js'
import type { Database, UsersTable } from './schema.js'

/**
 * How a role filter is applied: from the role's members (`members`), or by checking each user
 * walked newest first (`walk`).
 */
type RolePlan = 'members' | 'walk'

/**
 * A role with fewer members than this is listed from the role index (its members, then sorted);
 * a commoner role by walking users newest first and checking each against the index, which
 * stops after a page. Either plan alone is slow for the other kind of role.
 */
const DEFAULT_RARE_ROLE_LIMIT = 10_000

/** Escapes LIKE wildcards so user input matches literally (used with `escape '\'`). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/** The user list and search (newest first, filtered, paged, with its total) and the user count. */
export function createUserListQuery(
  ctx: StoreContext,
  rareRoleLimit = DEFAULT_RARE_ROLE_LIMIT,
): Pick<Store, 'listUsers' | 'countUsers'> {
  const { db, dialect, readSlow } = ctx
  const { bool, userKey } = dialect

  /** The `user_roles` rows of `role` (and of `active`, when given): one range of the key. */
  function roleMembers(role: string, active: boolean | undefined) {
    const rows = db.selectFrom('user_roles').where('role', '=', role)
    return active === undefined ? rows : rows.where('active', '=', bool(active))
  }

  /** The plan for the query's role filter, after counting up to `rareRoleLimit` members. */
  async function rolePlan(query: UserQuery): Promise<RolePlan | undefined> {
    if (query.role === undefined) return undefined
    const probe = roleMembers(query.role, query.active).select('user_id').limit(rareRoleLimit)
    const row = await db
      .selectFrom(probe.as('m'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return Number(row.n) < rareRoleLimit ? 'members' : 'walk'
  }

  function userFilters(query: UserQuery, plan: RolePlan | undefined) {
    return (eb: ExpressionBuilder<Database, 'users'>) => {
      const conditions: Expression<SqlBool>[] = []
      if (query.search !== undefined && query.search !== '') {
        const needle = query.search.toLowerCase()
        const p = `%${escapeLike(needle)}%`
        conditions.push(
          sql<SqlBool>`(username_lower like ${p} escape '\\' or email_lower like ${p} escape '\\' or lower(display_name) like ${p} escape '\\')`,
        )
        // Not when a rare role's members are fewer than the candidates could be (a common term
        // would list them all).
        const candidates = plan === 'members' ? undefined : dialect.searchCandidates(needle)
        if (candidates !== undefined) conditions.push(candidates)
      }
      if (query.active !== undefined) conditions.push(eb('active', '=', bool(query.active)))
      const { role } = query
      if (role !== undefined && plan === 'members') {
        const members = roleMembers(role, query.active).select('user_id')
        conditions.push(eb('users.id', 'in', members))
      } else if (role !== undefined) {
        // The user's own key in the index: role, the user's active, the user's id.
        const own = eb
          .selectFrom('user_roles')
          .select('user_roles.role')
          .where('user_roles.role', '=', role)
          .whereRef('user_roles.active', '=', 'users.active')
          .whereRef('user_roles.user_id', '=', 'users.id')
        conditions.push(eb.exists(own))
      }
      return eb.and(conditions)
    }
  }

  /** The users_count row kept by triggers (migrations 0003, 0005): exact, and one row to read. */
  const maintainedCounts = () =>
    db.selectFrom('users_count').where('id', '=', 1).select(['total', 'active'])

  /**
   * The query of a list's total, as one row `n`: from the maintained counts, or the role index
   * alone, when they answer it; else a real count.
   */
  function countMatching(query: UserQuery, where: ReturnType<typeof userFilters>) {
    const searching = query.search !== undefined && query.search !== ''
    if (!searching && query.role === undefined) {
      const n =
        query.active === undefined
          ? sql<number | string>`total`
          : query.active
            ? sql<number | string>`active`
            : sql<number | string>`total - active`
      return maintainedCounts().select(n.as('n'))
    }
    const count = (eb: ExpressionBuilder<Database, 'users' | 'user_roles'>) =>
      eb.fn.countAll<number | string>().as('n')
    if (!searching && query.role !== undefined) {
      return roleMembers(query.role, query.active).select(count)
    }
    return db.selectFrom('users').select(count).where(where)
  }

  return {
    listUsers: (query) =>
      guard(async () => {
        const where = userFilters(query, await rolePlan(query))
        // Deferred join: the offset walks only the index, then the page's rows are fetched by
        // key. Ties in created_at are broken by the key, so pages never overlap or skip a row.
        const pageKeys = db
          .selectFrom('users')
          .select(userKey.as('k'))
          .where(where)
          .orderBy('created_at', 'desc')
          .orderBy(userKey, 'desc')
          .limit(query.limit)
          .offset(query.offset)
        const page = db
          .selectFrom('users')
          .selectAll()
          .where(userKey, 'in', pageKeys)
          .orderBy('created_at', 'desc')
          .orderBy(userKey, 'desc')
        const [rows, count] = await readSlow([
          page.compile(),
          countMatching(query, where).compile(),
        ])
        return {
          items: (rows as Selectable<UsersTable>[]).map(rowToUser),
          total: countOf(count),
        }
      }),

    countUsers: () =>
      guard(async () => Number((await maintainedCounts().executeTakeFirstOrThrow()).total)),
  }
}
