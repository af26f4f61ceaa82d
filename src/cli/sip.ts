import type { Command } from 'commander'
import type { SipCredentialInfo } from '../types.js'
import {
  CLI_REQUEST_CONTEXT,
  type CliIo,
  loadCliConfig,
  printJson,
  println,
  withCore,
} from './context.js'
import { CliError } from './exit-codes.js'
import { formatFields, formatTable, formatTime, printable } from './output.js'
import { resolveUser } from './user.js'

function credentialToJson(c: SipCredentialInfo) {
  return {
    id: c.id,
    user_id: c.userId,
    label: c.label,
    sip_username: c.sipUsername,
    realm: c.realm,
    created_at: c.createdAt.toISOString(),
    last_used_at: c.lastUsedAt?.toISOString() ?? null,
    revoked: c.revoked,
  }
}

/** Registers `sip create|list|revoke` (SPEC §11). */
export function registerSipCommands(program: Command, io: CliIo): void {
  const sip = program.command('sip').description('SIP credentials of devices (digest secrets)')

  sip
    .command('create')
    .description('create a SIP credential for a user; prints its secret, shown this once')
    .argument('<user>', 'user id or username')
    .argument('<label>', 'names the device, unique per user')
    .option('--sip-username <name>', 'default <username>-<label>')
    .option('--json', 'print {credential, secret} as JSON')
    .action(
      async (
        who: string,
        label: string,
        opts: { sipUsername?: string; json?: boolean },
        command: Command,
      ) => {
        await withCore(loadCliConfig(command, io), io, async (core) => {
          const user = await resolveUser(core, who)
          const { credential, secret } = await core.sip.createCredential(
            {
              userId: user.id,
              label,
              ...(opts.sipUsername === undefined ? {} : { sipUsername: opts.sipUsername }),
            },
            CLI_REQUEST_CONTEXT,
          )
          if (opts.json)
            return printJson(io.stdout, { credential: credentialToJson(credential), secret })
          println(
            io.stdout,
            formatFields([
              ['id', credential.id],
              ['sip username', credential.sipUsername],
              ['realm', credential.realm],
              ['secret', secret],
            ]),
          )
          println(io.stdout, 'the secret is shown only now; users-core keeps only its digests')
        })
      },
    )

  sip
    .command('list')
    .description("list a user's SIP credentials, revoked ones included")
    .argument('<user>', 'user id or username')
    .option('--json', 'print a JSON array')
    .action(async (who: string, opts: { json?: boolean }, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const list = await core.sip.listCredentials((await resolveUser(core, who)).id)
        if (opts.json) return printJson(io.stdout, list.map(credentialToJson))
        println(
          io.stdout,
          formatTable(list, [
            { header: 'ID', cell: (c) => c.id },
            { header: 'LABEL', cell: (c) => printable(c.label) },
            { header: 'SIP USERNAME', cell: (c) => c.sipUsername },
            { header: 'REALM', cell: (c) => c.realm },
            { header: 'CREATED', cell: (c) => formatTime(c.createdAt) },
            { header: 'LAST USED', cell: (c) => formatTime(c.lastUsedAt) },
            { header: 'STATUS', cell: (c) => (c.revoked ? 'revoked' : 'active') },
          ]),
        )
      })
    })

  sip
    .command('revoke')
    .description('revoke a SIP credential by id; its secret stops working at once')
    .argument('<id>', 'credential id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const credential = await core.sip.getCredential(id.toLowerCase())
        if (!credential || credential.revoked) throw new CliError(`no such SIP credential: ${id}`)
        await core.sip.revokeCredential(credential.id, CLI_REQUEST_CONTEXT)
        println(io.stdout, `revoked SIP credential ${credential.sipUsername}`)
      })
    })
}
