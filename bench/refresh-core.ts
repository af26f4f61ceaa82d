// A reference for the refresh scenario: grants through `core.refreshToken()` in one process, with
// no HTTP and no load generator, 16 in flight. It separates what a grant costs in the core
// (session read, sealing, group-committed write, signing) from what HTTP adds. Started by
// bench/refresh.ts; announces { grantsPerSecond, cpuSecondsPerGrant } on fd 3.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PRODUCT_ROOT } from './lib/build.js'
import { announce } from './lib/child.js'
import { processCpuSeconds } from './lib/cpu.js'
import { BENCH_PASSWORD, benchConfig } from './lib/users-core.js'

const { init } = (await import(`${PRODUCT_ROOT}/core.js`)) as typeof import('../src/core.js')
const algorithm = (process.env.BENCH_ALGORITHM ?? 'RS256') as 'RS256' | 'ES256' | 'EdDSA'
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 16)
const seconds = Number(process.env.BENCH_SECONDS ?? 6)
const dir = mkdtempSync(join(tmpdir(), 'users-core-refresh-core-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

const core = await init(
  benchConfig({
    database_url: `sqlite://${join(dir, 'users.db')}`,
    log_level: 'silent',
    jwt: { algorithm },
    // Logins only open the sessions here; their hash cost is not what is measured.
    password: { argon2_memory_cost: 1024, argon2_time_cost: 1, argon2_parallelism: 1 },
  }),
)
await core.createUser({ username: 'refresher', password: BENCH_PASSWORD })
const tokens: string[] = []
for (let i = 0; i < 2 * inFlight; i++) {
  tokens.push((await core.authenticatePassword('refresher', BENCH_PASSWORD)).refreshToken)
}

/** Grants for `ms` milliseconds, `inFlight` at a time, each presenting a current token. */
async function grantFor(ms: number): Promise<number> {
  let grants = 0
  const end = performance.now() + ms
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const token = tokens.pop() as string
        tokens.push((await core.refreshToken(token)).refreshToken)
        grants++
      }
    }),
  )
  return grants
}

await grantFor(1000)
const cpuBefore = processCpuSeconds(process.pid)
const started = performance.now()
const grants = await grantFor(seconds * 1000)
const elapsed = (performance.now() - started) / 1000
const cpu = processCpuSeconds(process.pid) - cpuBefore
await core.close()
announce({ grantsPerSecond: grants / elapsed, cpuSecondsPerGrant: cpu / grants })
