// Login over HTTP at the spec's default Argon2id parameters: raw @node-rs/argon2 verify CPU per
// hash (a child process doing only verifies, at the server's hash concurrency) ÷ the server's
// CPU per login.
import { cpus } from 'node:os'
import { cpuTime } from './lib/cpu.js'
import { cpuPerRequest, type LoadResult, nonOk, okPerSecond, runLoad } from './lib/load.js'
import { rounds, seconds } from './lib/quick.js'
import { measureInChild, type RawCpuResult } from './lib/raw.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { median } from './lib/stats.js'
import { benchConfig, loginRequests, startUsersCore } from './lib/users-core.js'

const USERS = 1000
/** Enough to keep the pool (nproc running) and part of its queue busy, far below the 64 cap. */
const CONNECTIONS = 8
const ROUNDS = rounds(3)
const SECONDS = seconds(8)
const RAW_SECONDS = seconds(4)
/** Logins still queued when a load ends finish within ~0.5 s; the next raw figure waits them out. */
const DRAIN_MS = 1000

export async function run(): Promise<ScenarioResult> {
  // max_concurrent_hashes = 0 means one hash per CPU: that is the concurrency to compare with.
  const poolSize = cpus().length
  const server = await startUsersCore({ config: benchConfig(), users: USERS })
  // Rounds of raw verifies, then HTTP logins, each divided by its own round's raw figure: what a
  // hash costs on a shared machine drifts within minutes.
  const results: { raw: RawCpuResult; http: LoadResult }[] = []
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const raw = await measureInChild({ kind: 'argon2-verify' }, poolSize, RAW_SECONDS)
      const http = await runLoad(
        {
          url: server.info.url,
          ...loginRequests(USERS),
          connections: CONNECTIONS,
          durationSeconds: SECONDS,
          // About SECONDS of logins at the raw rate, all answered: no hash is cut by the window.
          amount: Math.max(2 * CONNECTIONS, Math.round(raw.opsPerSecond * SECONDS)),
          warmupSeconds: 2,
        },
        server.pid,
      )
      results.push({ raw, http })
      await new Promise((resolve) => setTimeout(resolve, DRAIN_MS))
    }
  } finally {
    await server.stop()
  }
  const list = (values: number[], show: (v: number) => string) =>
    ROUNDS > 1 ? ` (rounds: ${values.map(show).join(', ')})` : ''
  const rawCpu = results.map((r) => r.raw.cpuSecondsPerOp)
  const loginCpu = results.map((r) => cpuPerRequest(r.http))
  const rawRate = results.map((r) => r.raw.opsPerSecond)
  const loginRate = results.map((r) => okPerSecond(r.http))
  const load = results[Math.floor(ROUNDS / 2)]?.http as LoadResult
  return {
    id: 'login',
    title: 'Login over HTTP vs raw Argon2id verify (64 MiB, t=3, p=4), CPU per operation',
    figures: [
      [
        'raw verify CPU per hash',
        `${cpuTime(median(rawCpu))}${list(rawCpu, cpuTime)}; ${poolSize} in flight in a child process`,
      ],
      ['server CPU per login', `${cpuTime(median(loginCpu))}${list(loginCpu, cpuTime)}`],
      [
        'raw verifies/s (secondary)',
        `${fmt(median(rawRate), 1)}${list(rawRate, (v) => fmt(v, 1))}; p50 ${fmt(results[0]?.raw.p50Ms ?? Number.NaN, 1)} ms`,
      ],
      [
        'HTTP logins/s (secondary)',
        `${fmt(median(loginRate), 1)}${list(loginRate, (v) => fmt(v, 1))}; ${CONNECTIONS} connections, ${fmt(median(results.map((r) => r.http.total)))} logins, ${USERS} users; ÷ raw ${fmt(median(results.map((r) => okPerSecond(r.http) / r.raw.opsPerSecond)), 2)}`,
      ],
      [
        'login latency p50 / p99 (middle round)',
        `${fmt(load.latencyMs.p50, 1)} / ${fmt(load.latencyMs.p99, 1)} ms`,
      ],
      ['non-2xx responses or errors', nonOk(results.map((r) => r.http)) || 'none'],
    ],
    goals: [
      {
        name: 'raw verify CPU/hash ÷ server CPU/login',
        value: median(results.map((r) => r.raw.cpuSecondsPerOp / cpuPerRequest(r.http))),
        target: 0.95,
        kind: 'min',
      },
    ],
    notes: [
      'rate limits disabled in the bench config; every login is a success with a distinct random user',
      `latency includes queueing: ${CONNECTIONS} requests in flight share ${poolSize} hash slots`,
      `${ROUNDS} round(s) of raw verifies (${RAW_SECONDS} s) then HTTP logins (about ${SECONDS} s of them at the raw rate, after a 2 s warm-up); the ratio is the median over the rounds of each round's raw CPU per hash ÷ its server CPU per login`,
      'the login load is a fixed number of requests, all answered, so the CPU window holds no half-done hash at either end',
    ],
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
