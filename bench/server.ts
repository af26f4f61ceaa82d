// The users-core server under test, in its own process. Configured by the JSON in
// BENCH_SERVER (a ServerOptions), it opens a SQLite file in a temp dir, seeds users through the
// Store's bulk path, starts the REST server on 127.0.0.1:0 and writes a ServerInfo line on fd 3.
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Algorithm, hash } from '@node-rs/argon2'
import BetterSqlite3 from 'better-sqlite3'
import type { ConfigInput } from '../src/config/schema.js'
import type { UserRecord } from '../src/domain/records.js'
import { PRODUCT_ROOT } from './lib/build.js'
import { announce } from './lib/child.js'
import {
  BENCH_PASSWORD,
  type ServerInfo,
  type ServerOptions,
  USER_PAD,
  USER_PREFIX,
} from './lib/users-core.js'

// What users run: the compiled package (dist/, built by the orchestrator), unless BENCH_FROM_SRC=1.
const { parseConfig } = (await import(
  `${PRODUCT_ROOT}/config/schema.js`
)) as typeof import('../src/config/schema.js')
const { init } = (await import(`${PRODUCT_ROOT}/core.js`)) as typeof import('../src/core.js')
const { installSignalHandlers, startServer } = (await import(
  `${PRODUCT_ROOT}/http/serve.js`
)) as typeof import('../src/http/serve.js')
const { createLogger } = (await import(
  `${PRODUCT_ROOT}/lib/logger.js`
)) as typeof import('../src/lib/logger.js')
const { openStore } = (await import(
  `${PRODUCT_ROOT}/storage/open-store.js`
)) as typeof import('../src/storage/open-store.js')

const options = JSON.parse(process.env.BENCH_SERVER ?? '{}') as ServerOptions
const dir = mkdtempSync(join(tmpdir(), 'users-core-bench-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
const dbPath = join(dir, 'users.db')
const configInput: ConfigInput = {
  ...options.config,
  database_url: `sqlite://${dbPath}`,
  api_bind_address: '127.0.0.1:0',
  log_level: options.logLevel ?? 'silent',
}
const config = parseConfig(configInput)
const store = await openStore(config)
await store.migrate()

const BATCH = 20_000
const ARGON2ID = 2 as Algorithm
const seedStarted = performance.now()
if (options.users > 0) {
  // One Argon2id hash at the configured parameters, shared by every seeded row: a verify costs
  // the same for any of them, and seeding 1M users takes seconds instead of 8 hours of hashing.
  const passwordHash = await hash(BENCH_PASSWORD, {
    algorithm: ARGON2ID,
    memoryCost: config.password.argon2_memory_cost,
    timeCost: config.password.argon2_time_cost,
    parallelism: config.password.argon2_parallelism,
  })
  const base = Date.now() - options.users * 1000
  for (let start = 1; start <= options.users; start += BATCH) {
    const batch: UserRecord[] = []
    for (let n = start; n < Math.min(start + BATCH, options.users + 1); n++) {
      const username = `${USER_PREFIX}${String(n).padStart(USER_PAD, '0')}`
      const at = new Date(base + n * 1000)
      batch.push({
        id: randomUUID(),
        username,
        email: `${username}@bench.test`,
        displayName: `Bench User ${n}`,
        roles: ['user'],
        active: true,
        passwordHash,
        createdAt: at,
        updatedAt: at,
        lastLogin: null,
      })
    }
    await store.insertUsers(batch, [])
  }
}
const seedMs = performance.now() - seedStarted

// Fold the WAL into the main file so the size below is the database, not its journal.
const side = new BetterSqlite3(dbPath)
side.pragma('wal_checkpoint(TRUNCATE)')
side.close()
const size = (path: string) => (existsSync(path) ? statSync(path).size : 0)
const dbBytes = size(dbPath) + size(`${dbPath}-wal`)

const core = await init(configInput, { store })
const admin = await core.createUser({
  username: 'benchadmin',
  password: BENCH_PASSWORD,
  roles: ['admin'],
})
const adminKey = await core.apiKeys.create({ userId: admin.id, name: 'bench', permissions: ['*'] })
let apiKey: string | undefined
if (options.users > 0) {
  const first = await core.users.getByUsername(`${USER_PREFIX}${'1'.padStart(USER_PAD, '0')}`)
  if (first) {
    apiKey = (await core.apiKeys.create({ userId: first.id, name: 'bench', permissions: ['read'] }))
      .key
  }
}
const logger = createLogger(config.log_level)
const server = await startServer({ core, config, logger })
installSignalHandlers(server, logger)

const info: ServerInfo = {
  url: server.url,
  pid: process.pid,
  dbPath,
  dbBytes,
  users: options.users,
  seedMs,
  adminApiKey: adminKey.key,
  ...(apiKey ? { apiKey } : {}),
}
announce(info)
