import { type Command, InvalidArgumentError } from 'commander'
import { deriveAuditChainKey } from '../audit/chain.js'
import type { Config } from '../config/schema.js'
import { auditEventToWire } from '../http/wire.js'
import type { AuditFilter } from '../types.js'
import {
  type CliIo,
  type CliState,
  loadCliConfig,
  printJson,
  println,
  withCore,
} from './context.js'
import { EXIT_ERROR } from './exit-codes.js'
import { formatTable, formatTime } from './output.js'
import { parseCount } from './user.js'

function parseDate(value: string): Date {
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('expected an RFC 3339 date')
  return date
}

interface ListOptions {
  userId?: string
  type?: string
  since?: Date
  until?: Date
  limit?: number
  offset?: number
  json?: boolean
}

/** Registers `audit list|verify` (SPEC §8). */
export function registerAuditCommands(program: Command, io: CliIo, state: CliState): void {
  const audit = program.command('audit').description('the append-only audit trail')

  audit
    .command('list')
    .description('list audit events, newest first')
    .option('--user-id <id>', 'only events about this user')
    .option('--type <type>', 'only this event type, e.g. user.login.failed')
    .option('--since <date>', 'only events at or after this time (RFC 3339)', parseDate)
    .option('--until <date>', 'only events before this time (RFC 3339)', parseDate)
    .option('--limit <n>', 'at most this many (1-1000, default 50)', parseCount)
    .option('--offset <n>', 'skip this many', parseCount)
    .option('--json', 'print a JSON array')
    .action(async (opts: ListOptions, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const filter: AuditFilter = {
          ...(opts.userId !== undefined ? { userId: opts.userId } : {}),
          ...(opts.type !== undefined ? { type: opts.type } : {}),
          ...(opts.since !== undefined ? { since: opts.since } : {}),
          ...(opts.until !== undefined ? { until: opts.until } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          ...(opts.offset !== undefined ? { offset: opts.offset } : {}),
        }
        const page = await core.audit.list(filter)
        if (opts.json) return printJson(io.stdout, page.items.map(auditEventToWire))
        if (page.items.length > 0) {
          println(
            io.stdout,
            formatTable(page.items, [
              { header: 'AT', cell: (e) => formatTime(e.at) },
              { header: 'TYPE', cell: (e) => e.type },
              {
                header: 'ACTOR',
                cell: (e) => (e.actor.id ? `${e.actor.type}:${e.actor.id}` : e.actor.type),
              },
              { header: 'USER', cell: (e) => e.userId ?? '-' },
              { header: 'IP', cell: (e) => e.ip ?? '-' },
              { header: 'DETAILS', cell: (e) => JSON.stringify(e.details) },
            ]),
          )
        }
        println(io.stdout, `${page.items.length} of ${page.total} events`)
      })
    })

  audit
    .command('verify')
    .description('check the hash chain: exits 1 naming the first edited or deleted event')
    .action(async (_opts: unknown, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const result = await core.audit.verify()
        if (result.ok) {
          const how = result.keyed ? 'keyed' : `unkeyed: ${UNKEYED_MEANING}`
          println(io.stdout, `audit chain ok (${result.checked} events, ${how})`)
          return
        }
        const where = result.problem
          ? ` at seq ${result.problem.seq}: ${result.problem.reason}`
          : ''
        io.stderr.write(
          `users-core: audit chain broken${where} (${result.checked} events checked)\n`,
        )
        state.exitCode = EXIT_ERROR
      })
    })

  audit
    .command('seal')
    .description(
      'seal an unkeyed chain with the chain key at its head (once, after audit verify, when the key is first set on a database with events)',
    )
    .action(async (_opts: unknown, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const sealed = await core.audit.seal()
        println(io.stdout, sealed ? 'audit chain sealed' : 'audit chain was already sealed')
      })
    })
}

const UNKEYED_MEANING =
  'neither audit.chain_key nor jwt.key_encryption_secret is set, so anyone who can write to the database can rewrite the chain and verify still passes'

/** Warns once on standard error when the audit chain will not be keyed (`config check`, `serve`). */
export function warnUnkeyedAudit(config: Config, io: CliIo): void {
  if (deriveAuditChainKey(config) !== undefined) return
  io.stderr.write(`users-core: warning: the audit chain is not keyed: ${UNKEYED_MEANING}\n`)
}
