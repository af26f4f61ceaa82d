import type { Command } from 'commander'
import { createLogger } from '../lib/logger.js'
import type { UsersCore } from '../types.js'
import { warnUnkeyedAudit } from './audit.js'
import {
  type CliIo,
  type CliOutput,
  type CliState,
  loadCliConfig,
  warnUnknownEnv,
} from './context.js'

interface ServeOptions {
  bind?: string
  logLevel?: string
}

/** Prints the generated first-admin password once, framed so it cannot be missed (SPEC §7). */
export function printGeneratedPassword(out: CliOutput, username: string, password: string): void {
  const message = `==== users-core: created admin '${username}' with password: ${password} (shown once; change it) ====`
  const rule = '='.repeat(message.length)
  out.write(`\n${rule}\n${message}\n${rule}\n\n`)
}

/** Registers `serve`: migrate, bootstrap the first admin, listen, and drain on SIGTERM/SIGINT. */
export function registerServeCommand(program: Command, io: CliIo, state: CliState): void {
  program
    .command('serve')
    .summary('run the REST API')
    .description(
      'run the REST API (migrates the database; on an empty one creates the admin and prints a generated password once)',
    )
    .option('--bind <host:port>', 'listen address, port 0 = any free port (api_bind_address)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (log_level)')
    .action(async (opts: ServeOptions, command: Command) => {
      const loaded = loadCliConfig(command, io, {
        ...(opts.bind !== undefined ? { api_bind_address: opts.bind } : {}),
        ...(opts.logLevel !== undefined ? { log_level: opts.logLevel } : {}),
      })
      warnUnknownEnv(loaded, io)
      warnUnkeyedAudit(loaded.config, io)
      const { config } = loaded
      const [{ init }, { startServer, installSignalHandlers }, { createLimiterBackend }] =
        await Promise.all([
          import('../core.js'),
          import('../http/serve.js'),
          import('../storage/redis/limiter-backend.js'),
        ])
      // Server logs are JSON lines on standard output; the operator's messages go to stderr.
      const logger = createLogger(config.log_level)
      // One limiter store for the lockout and the request budgets: one Redis connection.
      const limiter = createLimiterBackend(config, logger)
      let core: UsersCore | undefined
      try {
        core = await init(config, { logger, limiters: limiter.createLimiter })
        // Bootstrap before listening, and report it before anything else can fail: a generated
        // password that was never shown would leave an admin nobody can log in as.
        const boot = await core.bootstrapAdmin()
        if (boot.created && boot.generatedPassword !== undefined) {
          printGeneratedPassword(io.stderr, boot.username, boot.generatedPassword)
        } else if (boot.created) {
          io.stderr.write(
            `users-core: created admin '${boot.username}' with the configured bootstrap.admin_password\n`,
          )
        }
        const server = await startServer({ core, config, logger, limiter })
        installSignalHandlers(server, logger)
        io.stderr.write(`users-core listening on ${server.url}\n`)
        state.detached = true
      } catch (error) {
        await core?.close().catch(() => undefined)
        await limiter.close()
        throw error
      }
    })
}
