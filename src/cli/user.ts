import { type Command, InvalidArgumentError, Option } from 'commander'
import { userToWire } from '../http/wire.js'
import type { User, UserFilter, UsersCore } from '../types.js'
import {
  CLI_REQUEST_CONTEXT,
  type CliIo,
  loadCliConfig,
  printJson,
  println,
  withCore,
} from './context.js'
import { CliError } from './exit-codes.js'
import { formatFields, formatTable, formatTime } from './output.js'
import { readPassword } from './password-input.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Finds a user by id or username (an id-shaped name is tried as both); NOT found → error. */
export async function resolveUser(core: UsersCore, idOrUsername: string): Promise<User> {
  const user =
    (UUID.test(idOrUsername) ? await core.users.get(idOrUsername.toLowerCase()) : undefined) ??
    (await core.users.getByUsername(idOrUsername))
  if (!user) throw new CliError(`no such user: ${idOrUsername}`)
  return user
}

/** Commander parser of a non-negative integer option. */
export function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer')
  return Number(value)
}

function parseBool(value: string): boolean {
  if (value === 'true') return true
  if (value === 'false') return false
  throw new InvalidArgumentError("expected 'true' or 'false'")
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function showUser(user: User, io: CliIo, json: boolean | undefined): void {
  if (json) {
    printJson(io.stdout, userToWire(user))
    return
  }
  println(
    io.stdout,
    formatFields([
      ['id', user.id],
      ['username', user.username],
      ['email', user.email ?? '-'],
      ['display name', user.displayName ?? '-'],
      ['roles', user.roles.join(', ') || '-'],
      ['active', String(user.active)],
      ['created', formatTime(user.createdAt)],
      ['updated', formatTime(user.updatedAt)],
      ['last login', formatTime(user.lastLogin)],
    ]),
  )
}

function passwordOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--password <password>',
        'the password (visible to other local users; prefer --password-stdin)',
      ).conflicts('passwordStdin'),
    )
    .option('--password-stdin', 'read the password from standard input')
}

/**
 * Registers `user create|list|show|set-password|set-roles|activate|deactivate|delete`; returns
 * the `user` command for the subcommands kept in files of their own (`user mfa`).
 */
export function registerUserCommands(program: Command, io: CliIo): Command {
  const user = program.command('user').description('manage user accounts')

  passwordOptions(
    user
      .command('create')
      .description(
        'create a user; without --password or --password-stdin the password is prompted for on a terminal',
      )
      .argument('<username>', '3-32 characters of A-Z a-z 0-9 _ . -'),
  )
    .option('--email <email>', 'email address')
    .option('--display-name <name>', 'display name')
    .option('--role <role>', 'a role (repeat for several; default: user)', collect)
    .option('--json', 'print the created user as JSON')
    .action(async (username: string, opts: CreateOptions, command: Command) => {
      const loaded = loadCliConfig(command, io)
      const password = await readPassword(opts, io)
      await withCore(loaded, io, async (core) => {
        const created = await core.createUser(
          {
            username,
            password,
            ...(opts.email !== undefined ? { email: opts.email } : {}),
            ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}),
            ...(opts.role ? { roles: opts.role } : {}),
          },
          CLI_REQUEST_CONTEXT,
        )
        if (opts.json) printJson(io.stdout, userToWire(created))
        else println(io.stdout, `created user ${created.username} (${created.id})`)
      })
    })

  user
    .command('list')
    .description('list users, newest first')
    .option('--search <text>', 'match username, email or display name')
    .option('--active <bool>', 'only active (true) or inactive (false) users', parseBool)
    .option('--role <role>', 'only users with this role')
    .option('--limit <n>', 'at most this many (1-1000, default 50)', parseCount)
    .option('--offset <n>', 'skip this many', parseCount)
    .option('--json', 'print a JSON array')
    .action(async (opts: ListOptions, command: Command) => {
      const loaded = loadCliConfig(command, io)
      await withCore(loaded, io, async (core) => {
        const filter: UserFilter = {
          ...(opts.search !== undefined ? { search: opts.search } : {}),
          ...(opts.active !== undefined ? { active: opts.active } : {}),
          ...(opts.role !== undefined ? { role: opts.role } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          ...(opts.offset !== undefined ? { offset: opts.offset } : {}),
        }
        const page = await core.users.list(filter)
        if (opts.json) return printJson(io.stdout, page.items.map(userToWire))
        if (page.items.length > 0) {
          println(
            io.stdout,
            formatTable(page.items, [
              { header: 'ID', cell: (u) => u.id },
              { header: 'USERNAME', cell: (u) => u.username },
              { header: 'EMAIL', cell: (u) => u.email ?? '-' },
              { header: 'ROLES', cell: (u) => u.roles.join(',') || '-' },
              { header: 'ACTIVE', cell: (u) => (u.active ? 'yes' : 'no') },
              { header: 'CREATED', cell: (u) => formatTime(u.createdAt) },
              { header: 'LAST LOGIN', cell: (u) => formatTime(u.lastLogin) },
            ]),
          )
        }
        const from = page.items.length > 0 ? (opts.offset ?? 0) + 1 : 0
        const to = (opts.offset ?? 0) + page.items.length
        println(io.stdout, `${from}-${to} of ${page.total} users`)
      })
    })

  user
    .command('show')
    .description('show one user')
    .argument('<user>', 'id or username')
    .option('--json', 'print JSON')
    .action(async (who: string, opts: { json?: boolean }, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        showUser(await resolveUser(core, who), io, opts.json)
      })
    })

  passwordOptions(
    user
      .command('set-password')
      .description('reset a password (no old password needed); revokes every session of the user')
      .argument('<user>', 'id or username'),
  ).action(
    async (who: string, opts: { password?: string; passwordStdin?: boolean }, command: Command) => {
      const loaded = loadCliConfig(command, io)
      const password = await readPassword(opts, io)
      await withCore(loaded, io, async (core) => {
        const target = await resolveUser(core, who)
        await core.users.resetPassword(target.id, password, CLI_REQUEST_CONTEXT)
        println(io.stdout, `password of ${target.username} changed; their sessions are revoked`)
      })
    },
  )

  user
    .command('set-roles')
    .description('replace the roles of a user')
    .argument('<user>', 'id or username')
    .argument('<roles...>', 'the new roles (replace all current ones)')
    .action(async (who: string, roles: string[], _opts: unknown, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const target = await resolveUser(core, who)
        const updated = await core.users.setRoles(target.id, roles, CLI_REQUEST_CONTEXT)
        println(io.stdout, `roles of ${updated.username}: ${updated.roles.join(', ') || '-'}`)
      })
    })

  for (const active of [true, false]) {
    user
      .command(active ? 'activate' : 'deactivate')
      .description(
        active
          ? 'allow a user to log in again'
          : 'block a user from logging in; revokes every session',
      )
      .argument('<user>', 'id or username')
      .action(async (who: string, _opts: unknown, command: Command) => {
        await withCore(loadCliConfig(command, io), io, async (core) => {
          const target = await resolveUser(core, who)
          await core.users.update(target.id, { active }, CLI_REQUEST_CONTEXT)
          println(io.stdout, `${active ? 'activated' : 'deactivated'} ${target.username}`)
        })
      })
  }

  user
    .command('delete')
    .description('delete a user, their sessions and API keys (the last active admin cannot be)')
    .argument('<user>', 'id or username')
    .action(async (who: string, _opts: unknown, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const target = await resolveUser(core, who)
        await core.users.delete(target.id, CLI_REQUEST_CONTEXT)
        println(io.stdout, `deleted ${target.username} (${target.id})`)
      })
    })
  return user
}

interface CreateOptions {
  password?: string
  passwordStdin?: boolean
  email?: string
  displayName?: string
  role?: string[]
  json?: boolean
}

interface ListOptions {
  search?: string
  active?: boolean
  role?: string
  limit?: number
  offset?: number
  json?: boolean
}
