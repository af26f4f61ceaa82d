// The REST server started from code, the way `users-core serve` does it (SPEC §1, §7): config
// from the TOML file and USERS_CORE_* variables, database migrated, signing keys loaded, a
// bootstrap admin on an empty database, the port opened, SIGTERM/SIGINT drained.
//
//   npx tsx examples/rest-api-server.ts [--config users_core.toml]
//   USERS_CORE_API_BIND_ADDRESS=127.0.0.1:0 USERS_CORE_DATABASE_URL=sqlite:///tmp/u.db npx tsx …
//
// Logs are JSON lines on standard output; the human lines below go to standard error.
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { installSignalHandlers, startServer } from '../src/http/index.js'
import { init, isUsersError, loadConfig } from '../src/index.js'

const { values: flags } = parseArgs({ options: { config: { type: 'string' } } })

try {
  const { config, file, unknownEnv } = loadConfig({ configPath: flags.config, env: process.env })
  const logger = pino({ level: config.log_level })
  if (file) logger.info({ file }, 'configuration file loaded')
  if (unknownEnv.length > 0)
    logger.warn({ names: unknownEnv }, 'ignoring unknown USERS_CORE_ variables')

  const core = await init(config, { logger })
  const bootstrap = await core.bootstrapAdmin()
  if (bootstrap.created) {
    if (bootstrap.generatedPassword) {
      // Printed once, never logged: the operator must copy it now (SPEC §7).
      process.stderr.write(
        `\n  Created admin user "${bootstrap.username}" with generated password:\n\n    ${bootstrap.generatedPassword}\n\n  Store it now; it is not shown again.\n\n`,
      )
    } else {
      process.stderr.write(
        `Created admin user "${bootstrap.username}" with the configured password\n`,
      )
    }
  }

  const server = await startServer({ core, config, logger })
  installSignalHandlers(server, logger)
  process.stderr.write(`users-core listening on ${server.url}\n`)
} catch (error) {
  process.stderr.write(`users-core: ${isUsersError(error) ? error.message : String(error)}\n`)
  process.exit(1)
}
