// Scenario 1 (issue 6): logins/s over HTTP at the spec's default Argon2id parameters ÷ raw
// @node-rs/argon2 verifies/s at the same parameters and the server's hash concurrency.
import { cpus } from 'node:os'
import { argon2Verifier } from './lib/argon2-raw.js'
import { type LoadResult, nonOk, okPerSecond, runLoad } from './lib/load.js'
import { measureConcurrent } from './lib/raw.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { median } from './lib/stats.js'
import { benchConfig, loginRequests, startUsersCore } from './lib/users-core.js'

const USERS = 1000
/** Enough to keep the pool (nproc running) and part of its queue busy, far below the 64 cap. */
const CONNECTIONS = 8
const ROUNDS = 3
const SECONDS = 8
const RAW_SECONDS = 4
/** Logins still queued when a load ends finish within ~0.5 s; the next raw figure waits them out. */
const DRAIN_MS = 1000

export async function run(): Promise<ScenarioResult> {
  // max_concurrent_hashes = 0 means one hash per CPU: that is the concurrency to compare with.
  const poolSize = cpus().length
  const verifyOnce = await argon2Verifier()
  const server = await startUsersCore({ config: benchConfig(), users: USERS })
  // Rounds of raw verifies, then HTTP logins, each divided by its own round's raw figure: the
  // CPU a hash costs on a shared machine drifts by a fifth within minutes (105–126 ms of CPU per
  // login in runs of the same code), and a raw figure taken minutes away measures that drift.
  const rounds: { raw: Awaited<ReturnType<typeof measureConcurrent>>; http: LoadResult }[] = []
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const raw = await measureConcurrent(verifyOnce, poolSize, RAW_SECONDS)
      const http = await runLoad({
        url: server.info.url,
        ...loginRequests(USERS),
        connections: CONNECTIONS,
        durationSeconds: SECONDS,
        warmupSeconds: 2,
      })
      rounds.push({ raw, http })
      await new Promise((resolve) => setTimeout(resolve, DRAIN_MS))
    }
  } finally {
    await server.stop()
  }
  const rawWide = await measureConcurrent(verifyOnce, 4, RAW_SECONDS)
  const ratio = median(rounds.map((r) => okPerSecond(r.http) / r.raw.opsPerSecond))
  const raw = median(rounds.map((r) => r.raw.opsPerSecond))
  const load = rounds[Math.floor(ROUNDS / 2)]?.http as LoadResult
  const list = (values: number[]) => values.map((v) => fmt(v, 1)).join(', ')
  const logins = median(rounds.map((r) => okPerSecond(r.http)))
  return {
    id: 'login',
    title: 'Login over HTTP vs raw Argon2id verify (64 MiB, t=3, p=4)',
    figures: [
      [
        'raw verifies/s, concurrency = pool',
        `${fmt(raw, 1)} median (rounds: ${list(rounds.map((r) => r.raw.opsPerSecond))}; ${poolSize} in flight, p50 ${fmt(rounds[0]?.raw.p50Ms ?? Number.NaN, 1)} ms)`,
      ],
      [
        'raw verifies/s, 4 in flight',
        `${fmt(rawWide.opsPerSecond, 1)} (p50 ${fmt(rawWide.p50Ms, 1)} ms)`,
      ],
      [
        'HTTP logins/s (200s)',
        `${fmt(logins, 1)} median (rounds: ${list(rounds.map((r) => okPerSecond(r.http)))}; ${CONNECTIONS} connections, ${SECONDS} s, ${USERS} users)`,
      ],
      [
        'login latency p50 / p99 (middle round)',
        `${fmt(load.latencyMs.p50, 1)} / ${fmt(load.latencyMs.p99, 1)} ms`,
      ],
      ['non-2xx responses or errors', nonOk(rounds.map((r) => r.http)) || 'none'],
    ],
    goals: [{ name: 'logins/s ÷ raw verifies/s', value: ratio, target: 0.95, kind: 'min' }],
    notes: [
      'rate limits disabled in the bench config; every login is a success with a distinct random user',
      `latency includes queueing: ${CONNECTIONS} requests in flight share ${poolSize} hash slots`,
      `${ROUNDS} rounds of raw verifies (${RAW_SECONDS} s) then HTTP logins (${SECONDS} s after a 2 s warm-up); the ratio is the median over the rounds of each round's logins ÷ its raw figure`,
    ],
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
