// Scenario 1 (issue 6): logins/s over HTTP at the spec's default Argon2id parameters ÷ raw
// @node-rs/argon2 verifies/s at the same parameters and the server's hash concurrency.
import { cpus } from 'node:os'
import { argon2Verifier } from './lib/argon2-raw.js'
import { okPerSecond, runLoad } from './lib/load.js'
import { measureConcurrent } from './lib/raw.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { benchConfig, loginRequests, startUsersCore } from './lib/users-core.js'

const USERS = 1000
/** Enough to keep the pool (nproc running) and part of its queue busy, far below the 64 cap. */
const CONNECTIONS = 8
const SECONDS = 20
const RAW_SECONDS = 5

export async function run(): Promise<ScenarioResult> {
  // max_concurrent_hashes = 0 means one hash per CPU: that is the concurrency to compare with.
  const poolSize = cpus().length
  const verifyOnce = await argon2Verifier()
  const rawBefore = await measureConcurrent(verifyOnce, poolSize, RAW_SECONDS)
  const server = await startUsersCore({ config: benchConfig(), users: USERS })
  let load: Awaited<ReturnType<typeof runLoad>>
  try {
    load = await runLoad({
      url: server.info.url,
      ...loginRequests(USERS),
      connections: CONNECTIONS,
      durationSeconds: SECONDS,
      warmupSeconds: 2,
    })
  } finally {
    await server.stop()
  }
  const rawAfter = await measureConcurrent(verifyOnce, poolSize, RAW_SECONDS)
  const rawWide = await measureConcurrent(verifyOnce, 4, RAW_SECONDS)
  // Raw measured before and after the HTTP run: their mean cancels slow drift of a shared machine.
  const raw = (rawBefore.opsPerSecond + rawAfter.opsPerSecond) / 2
  const logins = okPerSecond(load)
  const others = Object.entries(load.statusCounts).filter(([code]) => code !== '200')
  return {
    id: 'login',
    title: 'Login over HTTP vs raw Argon2id verify (64 MiB, t=3, p=4)',
    figures: [
      [
        'raw verifies/s, concurrency = pool',
        `${fmt(raw, 1)} (before ${fmt(rawBefore.opsPerSecond, 1)}, after ${fmt(rawAfter.opsPerSecond, 1)}; ${poolSize} in flight, p50 ${fmt(rawBefore.p50Ms, 1)} ms)`,
      ],
      [
        'raw verifies/s, 4 in flight',
        `${fmt(rawWide.opsPerSecond, 1)} (p50 ${fmt(rawWide.p50Ms, 1)} ms)`,
      ],
      [
        'HTTP logins/s (200s)',
        `${fmt(logins, 1)} (${CONNECTIONS} connections, ${SECONDS} s, ${USERS} users)`,
      ],
      [
        'login latency p50 / p99',
        `${fmt(load.latencyMs.p50, 1)} / ${fmt(load.latencyMs.p99, 1)} ms`,
      ],
      [
        'non-200 responses',
        others.length === 0 ? 'none' : others.map(([c, n]) => `${c}×${n}`).join(', '),
      ],
    ],
    goals: [{ name: 'logins/s ÷ raw verifies/s', value: logins / raw, target: 0.95, kind: 'min' }],
    notes: [
      'rate limits disabled in the bench config; every login is a success with a distinct random user',
      `latency includes queueing: ${CONNECTIONS} requests in flight share ${poolSize} hash slots`,
    ],
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
