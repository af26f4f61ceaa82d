import { z } from 'zod'
import type { CoreDeps } from '../core-deps.js'
import type { UserRecord } from '../domain/records.js'
import type { UserCursor } from '../domain/store.js'
import { checkHashCost, hashCostBound } from '../passwords/hash-cost.js'
import type { ExportedUser, ImportResult, ImportUserInput, RequestContext } from '../types.js'
import { newUserRecord } from './new-user-record.js'
import { displayNameSchema, emailSchema, rolesSchema, usernameSchema } from './validation.js'

const rfc3339 = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 timestamp' })

/**
 * One import line: the API's account field rules and types, nothing else. The `id`,
 * `updated_at` and `last_login` that export writes are accepted so its files import back whole.
 */
const importLineSchema = z.strictObject({
  username: usernameSchema,
  password_hash: z.string({ error: 'must be a string' }),
  email: emailSchema.nullable().optional(),
  display_name: displayNameSchema.nullable().optional(),
  roles: rolesSchema.optional(),
  active: z.boolean({ error: 'must be true or false' }).optional(),
  created_at: rfc3339.optional(),
  id: z.uuid().optional(),
  updated_at: rfc3339.optional(),
  last_login: rfc3339.nullable().optional(),
})
/** Users read per page by the export walk. */
const EXPORT_PAGE_SIZE = 500

/** Import (JSON lines of users with existing hashes, in bulk) and export, oldest first (SPEC §7). */
export function createUserTransfer(deps: CoreDeps) {
  const { store, clock, config } = deps

  const importCostBound = hashCostBound(config.password)

  /** A valid import line as the record to insert, or why it fails. */
  function importRecord(row: ImportUserInput): UserRecord | { status: 'failed'; reason: string } {
    const parsed = importLineSchema.safeParse(row)
    if (!parsed.success) return { status: 'failed', reason: importProblems(parsed.error) }
    const valid = parsed.data
    // The same bound refuses such a hash at login: importing it would only make a dead account.
    const cost = checkHashCost(valid.password_hash, importCostBound)
    if (cost.verdict === 'malformed') {
      return { status: 'failed', reason: 'password_hash: not a supported hash' }
    }
    if (cost.verdict === 'over') {
      return { status: 'failed', reason: `password_hash: ${cost.reason}` }
    }
    return newUserRecord(
      deps,
      {
        username: valid.username,
        email: valid.email ?? null,
        displayName: valid.display_name ?? null,
        ...(valid.roles ? { roles: valid.roles } : {}),
      },
      valid.password_hash,
      {
        active: valid.active ?? true,
        createdAt: valid.created_at ? new Date(valid.created_at) : clock.now(),
      },
    )
  }

  /**
   * One bulk insert for the valid rows. A row whose username or email an earlier row of the
   * batch takes is skipped before it; one the database already holds is skipped by the insert.
   */
  async function importBatch(
    rows: ImportUserInput[],
    ctx?: RequestContext,
  ): Promise<ImportResult[]> {
    const results: ImportResult[] = []
    const pending: { index: number; record: UserRecord }[] = []
    const usernames = new Set<string>()
    const emails = new Set<string>()
    for (const [index, row] of rows.entries()) {
      const record = importRecord(row)
      if ('status' in record) {
        results[index] = record
        continue
      }
      const username = record.username.toLowerCase()
      const email = record.email?.toLowerCase()
      if (usernames.has(username)) results[index] = { status: 'skipped', reason: 'username exists' }
      else if (email !== undefined && emails.has(email)) {
        results[index] = { status: 'skipped', reason: 'email exists' }
      } else {
        usernames.add(username)
        if (email !== undefined) emails.add(email)
        pending.push({ index, record })
      }
    }
    if (pending.length === 0) return results
    const { skipped } = await store.insertUsers(
      pending.map((p) => p.record),
      (inserted) =>
        inserted.map((record) =>
          deps.audit.build('user.created', record.id, ctx, {
            username: record.username,
            source: 'import',
          }),
        ),
    )
    // Usernames are unique within `pending`, so they name the skipped rows.
    const taken = new Set(skipped)
    for (const { index, record } of pending) {
      results[index] = taken.has(record.username)
        ? { status: 'skipped', reason: `${await takenField(record)} exists` }
        : { status: 'imported', id: record.id }
    }
    return results
  }

  /** Which field of a skipped row the database already held. */
  async function takenField(record: UserRecord): Promise<'username' | 'email'> {
    return (await store.findUserByUsername(record.username)) ? 'username' : 'email'
  }

  /** Every user oldest first, read a page at a time after the last one written. */
  async function* exportAll(pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<ExportedUser> {
    let after: UserCursor | undefined
    for (;;) {
      const page = await store.listUsersOldestFirst(after, pageSize)
      for (const u of page) {
        yield {
          id: u.id,
          username: u.username,
          email: u.email,
          display_name: u.displayName,
          roles: u.roles,
          active: u.active,
          password_hash: u.passwordHash,
          created_at: u.createdAt.toISOString(),
          updated_at: u.updatedAt.toISOString(),
          last_login: u.lastLogin?.toISOString() ?? null,
        }
      }
      const last = page.at(-1)
      if (last === undefined || page.length < pageSize) return
      after = { createdAt: last.createdAt, id: last.id }
    }
  }

  return { importBatch, exportAll }
}

/** Every problem of an import line in one reason: `field: message`, unknown fields by name. */
function importProblems(error: z.ZodError): string {
  return error.issues
    .map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.join(', ')}`
        : `${issue.path.join('.') || 'line'}: ${issue.message}`,
    )
    .join('; ')
}
