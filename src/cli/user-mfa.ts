import type { Command } from 'commander'
import { mfaFactorToWire } from '../http/wire.js'
import {
  CLI_REQUEST_CONTEXT,
  type CliIo,
  loadCliConfig,
  printJson,
  println,
  withCore,
} from './context.js'
import { CliError } from './exit-codes.js'
import { formatTable, formatTime } from './output.js'
import { resolveUser } from './user.js'

interface MfaOptions {
  remove?: string
  removeAll?: boolean
  json?: boolean
}

/**
 * `user mfa <user>`: lists a user's second factors (never a secret) and removes them, for the
 * operator helping someone who lost their device. Removals are audited like an admin's.
 */
export function registerUserMfaCommand(user: Command, io: CliIo): void {
  user
    .command('mfa')
    .description(
      "list a user's second factors; --remove or --remove-all takes them away (removing the last turns MFA off and revokes the user's sessions)",
    )
    .argument('<user>', 'id or username')
    .option('--remove <factor-id>', 'remove this factor')
    .option('--remove-all', 'remove every factor (and with them the recovery codes)')
    .option('--json', 'print JSON')
    .action(async (who: string, opts: MfaOptions, command: Command) => {
      if (opts.remove !== undefined && opts.removeAll) {
        throw new CliError('give --remove or --remove-all, not both', 2)
      }
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const target = await resolveUser(core, who)
        const before = await core.mfa.status(target.id)
        const removing =
          opts.removeAll === true
            ? before.factors
            : before.factors.filter((f) => f.id === opts.remove?.toLowerCase())
        if (opts.remove !== undefined && removing.length === 0) {
          throw new CliError(`${target.username} has no factor ${opts.remove}`)
        }
        for (const factor of removing) {
          await core.mfa.removeFactor(target.id, factor.id, CLI_REQUEST_CONTEXT)
          if (!opts.json) println(io.stdout, `removed ${factor.type} factor ${factor.id}`)
        }
        const status = removing.length > 0 ? await core.mfa.status(target.id) : before
        if (opts.json) {
          return printJson(io.stdout, {
            enabled: status.enabled,
            factors: status.factors.map(mfaFactorToWire),
            recovery_codes_remaining: status.recoveryCodesRemaining,
          })
        }
        if (status.factors.length > 0) {
          println(
            io.stdout,
            formatTable(status.factors, [
              { header: 'ID', cell: (f) => f.id },
              { header: 'TYPE', cell: (f) => f.type },
              { header: 'NAME', cell: (f) => f.name ?? '-' },
              { header: 'CREATED', cell: (f) => formatTime(f.createdAt) },
              { header: 'LAST USED', cell: (f) => formatTime(f.lastUsedAt) },
            ]),
          )
        }
        println(
          io.stdout,
          status.enabled
            ? `MFA on for ${target.username}; ${status.recoveryCodesRemaining} recovery codes left`
            : `MFA off for ${target.username}`,
        )
      })
    })
}
