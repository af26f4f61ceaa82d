import type { Command } from 'commander'
import type { SigningKeyInfo } from '../types.js'
import {
  CLI_REQUEST_CONTEXT,
  type CliIo,
  loadCliConfig,
  printJson,
  println,
  withCore,
} from './context.js'
import { formatTable, formatTime } from './output.js'

function keysTable(keys: readonly SigningKeyInfo[]): string {
  return formatTable(keys, [
    { header: 'KID', cell: (k) => k.kid },
    { header: 'ALG', cell: (k) => k.algorithm },
    { header: 'STATUS', cell: (k) => k.status },
    { header: 'CREATED', cell: (k) => formatTime(k.createdAt) },
    { header: 'SIGNS FROM', cell: (k) => formatTime(k.activatesAt) },
    { header: 'PUBLISHED UNTIL', cell: (k) => formatTime(k.expiresAt) },
  ])
}

function keyToJson(k: SigningKeyInfo) {
  return {
    kid: k.kid,
    algorithm: k.algorithm,
    status: k.status,
    created_at: k.createdAt.toISOString(),
    activates_at: k.activatesAt?.toISOString() ?? null,
    expires_at: k.expiresAt?.toISOString() ?? null,
  }
}

/** Registers `keys list|rotate` (SPEC §4.2). */
export function registerKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('JWT signing keys')

  keys
    .command('list')
    .description('list the signing keys in the JWKS: next, current and retired')
    .option('--json', 'print a JSON array')
    .action(async (opts: { json?: boolean }, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const list = await core.keys.list()
        if (opts.json) printJson(io.stdout, list.map(keyToJson))
        else println(io.stdout, keysTable(list))
      })
    })

  keys
    .command('rotate')
    .description('rotate now: the next key starts signing once published, a new next key is made')
    .option('--json', 'print the resulting keys as a JSON array')
    .action(async (opts: { json?: boolean }, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        await core.keys.rotate(CLI_REQUEST_CONTEXT)
        const list = await core.keys.list()
        if (opts.json) return printJson(io.stdout, list.map(keyToJson))
        println(io.stdout, 'signing keys rotated')
        println(io.stdout, keysTable(list))
      })
    })
}
