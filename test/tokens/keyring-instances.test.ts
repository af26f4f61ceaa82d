import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/schema.js'
import type { Store } from '../../src/domain/store.js'
import { createManualClock, type ManualClock } from '../../src/lib/clock.js'
import { createLogger } from '../../src/lib/logger.js'
import { secureRandom } from '../../src/lib/random.js'
import { openStore } from '../../src/storage/open-store.js'
import { createKeyring, type Keyring } from '../../src/tokens/keyring.js'
import { createTempPostgresDatabase, postgresUnavailableReason } from '../helpers/databases.js'

// Several instances on one database: the deployment SPEC §4.2 is about. Each instance has its own
// connection (pool), as separate processes would.

const START = new Date('2026-03-01T12:00:00Z')
const DAY = 86_400_000
const USER = { id: '7b0f3c9e-8d1a-4f5e-9c2b-1a2b3c4d5e6f', username: 'bob', email: null, roles: [] }

interface Target {
  name: string
  create(): Promise<{ url: string; drop(): Promise<void> }>
}

const sqliteFile: Target = {
  name: 'SQLite file',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'users-core-keyring-'))
    return {
      url: `sqlite://${join(dir, 'users.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  },
}
const postgres: Target = { name: 'PostgreSQL', create: createTempPostgresDatabase }

const CI = process.env.CI === 'true'
const pgUnavailable = await postgresUnavailableReason()

for (const target of [sqliteFile, postgres]) {
  const skip = target === postgres && pgUnavailable !== undefined && !CI
  const suite = skip ? describe.skip : describe
  suite(`keyrings of several instances on ${target.name}`, () => {
    let db: { url: string; drop(): Promise<void> }
    let stores: Store[]
    let keyrings: Keyring[]

    beforeEach(async () => {
      db = await target.create()
      stores = []
      keyrings = []
    })
    afterEach(async () => {
      for (const k of keyrings) k.close()
      for (const s of stores) await s.close()
      await db.drop()
    })

    async function instance(clock: ManualClock, init = true) {
      const store = await openStore(parseConfig({ database_url: db.url, database_pool_size: 2 }))
      stores.push(store)
      await store.migrate()
      const keyring = createKeyring({
        store,
        jwt: parseConfig({ jwt: { algorithm: 'ES256', key_rotation_days: 1 } }).jwt,
        clock,
        random: secureRandom,
        logger: createLogger('silent'),
        reloadIntervalMs: 0,
      })
      keyrings.push(keyring)
      if (init) await keyring.init()
      return { store, keyring }
    }

    it('instances starting together on an empty database agree on one key set', async () => {
      const clock = createManualClock(START)
      // Opened (and migrated) one by one: concurrent migration is the storage suite's business.
      const [a, b, c] = [
        await instance(clock, false),
        await instance(clock, false),
        await instance(clock, false),
      ]
      await Promise.all([a, b, c].map((i) => i?.keyring.init()))
      expect(await a?.store.listSigningKeys()).toHaveLength(2)
      expect(b?.keyring.jwks()).toEqual(a?.keyring.jwks())
      expect(c?.keyring.currentKid()).toBe(a?.keyring.currentKid())
    })

    it('exactly one of several due instances rotates; the others see it', async () => {
      const clock = createManualClock(START)
      const all = [await instance(clock), await instance(clock), await instance(clock)]
      clock.advance(DAY)
      const results = await Promise.all(all.map((i) => i.keyring.rotateIfDue()))
      expect(results.filter(Boolean)).toHaveLength(1)
      const [first] = all
      expect(await first?.store.listSigningKeys()).toHaveLength(3)
      const events = await first?.store.listAuditEvents({
        type: 'signing_key.rotated',
        limit: 10,
        offset: 0,
      })
      expect(events?.total).toBe(1)
      const kid = first?.keyring.currentKid()
      for (const i of all) expect(i.keyring.currentKid()).toBe(kid)
      // a token from any instance verifies on every other
      for (const signer of all) {
        const { token } = await signer.keyring.issueAccessToken({
          user: USER,
          scope: 'openid',
          roles: [],
        })
        for (const verifier of all) {
          await expect(verifier.keyring.verifyAccessToken(token)).resolves.toMatchObject({
            sub: USER.id,
          })
        }
      }
    })
  })
}
