// Scenario 2 (issue 6): refresh grants/s over HTTP ÷ raw RS256 signatures/s with 16 in flight,
// the raw figure measured with jose SignJWT (the goal's baseline) and with node:crypto; also
// ES256 and EdDSA.
import { ensureBuilt } from './lib/build.js'
import { readWriteBytes, startJsonChild } from './lib/child.js'
import { okPerSecond, runLoad } from './lib/load.js'
import { measureConcurrent } from './lib/raw.js'
import { fmt, type Goal, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { signers } from './lib/sign-raw.js'
import { benchConfig, loginMany, startUsersCore } from './lib/users-core.js'

const IN_FLIGHT = 16
const SECONDS = 6
const RAW_SECONDS = 3
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const

/** Grants/s through `core.refreshToken()` in a process of its own: no HTTP, no load generator. */
async function measureCoreRefresh(alg: (typeof ALGORITHMS)[number]) {
  await ensureBuilt()
  const child = await startJsonChild<{ grantsPerSecond: number; cpuMicrosPerGrant: number }>(
    'bench/refresh-core.ts',
    { BENCH_ALGORITHM: alg, BENCH_IN_FLIGHT: String(IN_FLIGHT), BENCH_SECONDS: String(SECONDS) },
  )
  await child.stop()
  return child.info
}

export async function run(): Promise<ScenarioResult> {
  const figures: [string, string][] = []
  const goals: Goal[] = []
  for (const alg of ALGORITHMS) {
    const sign = signers(alg)
    const jose = await measureConcurrent(sign.jose, IN_FLIGHT, RAW_SECONDS)
    const nodeAsync = await measureConcurrent(sign.nodeAsync, IN_FLIGHT, RAW_SECONDS)
    const nodeSync = await measureConcurrent(sign.nodeSync, 1, RAW_SECONDS)
    const server = await startUsersCore({
      config: benchConfig({ jwt: { algorithm: alg } }),
      users: 2 * IN_FLIGHT,
    })
    let grants: number
    let writtenPerGrant: number
    let load: Awaited<ReturnType<typeof runLoad>>
    try {
      // Twice as many sessions as connections: a failed grant loses a token, not a connection.
      const sessions = await loginMany(server.info.url, 2 * IN_FLIGHT)
      const writtenBefore = readWriteBytes(server.pid)
      load = await runLoad({
        url: server.info.url,
        method: 'POST',
        path: '/auth/refresh',
        mode: { kind: 'refresh', tokens: sessions.map((s) => s.refresh_token) },
        connections: IN_FLIGHT,
        durationSeconds: SECONDS,
        warmupSeconds: 1,
      })
      grants = okPerSecond(load)
      // The warm-up's grants wrote too.
      writtenPerGrant =
        (readWriteBytes(server.pid) - writtenBefore) / (load.total + load.warmupTotal)
    } finally {
      await server.stop()
    }
    const inCore = await measureCoreRefresh(alg)
    const non200 = Object.entries(load.statusCounts).filter(([c]) => c !== '200')
    figures.push(
      [`${alg} raw jose SignJWT/s, ${IN_FLIGHT} in flight`, fmt(jose.opsPerSecond)],
      [
        `${alg} raw node:crypto sign/s, ${IN_FLIGHT} in flight (async)`,
        fmt(nodeAsync.opsPerSecond),
      ],
      [`${alg} raw node:crypto sign/s, synchronous`, fmt(nodeSync.opsPerSecond)],
      [
        `${alg} HTTP refresh grants/s`,
        `${fmt(grants)} (p50 ${fmt(load.latencyMs.p50, 1)} ms, p99 ${fmt(load.latencyMs.p99, 1)} ms${
          non200.length ? `; non-200: ${non200.map(([c, n]) => `${c}×${n}`).join(', ')}` : ''
        })`,
      ],
      [`${alg} bytes written to storage per grant (≈)`, fmt(writtenPerGrant)],
      [
        `${alg} core.refreshToken() grants/s in-process (no HTTP)`,
        `${fmt(inCore.grantsPerSecond)} (${fmt(inCore.cpuMicrosPerGrant)} µs of CPU per grant; ÷ jose ${fmt(inCore.grantsPerSecond / jose.opsPerSecond, 2)})`,
      ],
      [
        `${alg} grants ÷ jose / ÷ node async / ÷ node sync`,
        [jose, nodeAsync, nodeSync].map((r) => fmt(grants / r.opsPerSecond, 2)).join(' / '),
      ],
    )
    if (alg === 'RS256') {
      goals.push({
        name: 'RS256 grants/s ÷ jose RS256 signs/s (16 in flight)',
        value: grants / jose.opsPerSecond,
        target: 0.5,
        kind: 'min',
      })
    }
  }
  return {
    id: 'refresh',
    title: `Refresh grants over HTTP (${IN_FLIGHT} connections) vs raw JWS signing`,
    figures,
    goals,
    notes: [
      'the goal divides by jose SignJWT with 16 in flight, as issue 6 states; node:crypto figures are for reference',
      'each request presents the newest refresh token of its session: every grant is a real rotation',
      'the in-process row is a reference: the same grants through core.refreshToken() in a process of its own, 16 in flight, with no HTTP and no load generator',
    ],
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
