// Refresh grants over HTTP: raw signing CPU per signature (node:crypto, a child process doing
// only signatures) ÷ the server's CPU per grant, for RS256 (the goal), ES256 and EdDSA.
import { ensureBuilt } from './lib/build.js'
import { readWriteBytes, startJsonChild } from './lib/child.js'
import { cpuTime } from './lib/cpu.js'
import { cpuPerRequest, okPerSecond, runLoad } from './lib/load.js'
import { seconds } from './lib/quick.js'
import { measureInChild } from './lib/raw.js'
import { fmt, type Goal, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { benchConfig, loginMany, startUsersCore } from './lib/users-core.js'

const IN_FLIGHT = 16
const SECONDS = seconds(6)
const RAW_SECONDS = seconds(3)
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const

/** Grants through `core.refreshToken()` in a process of its own: no HTTP, no load generator. */
async function measureCoreRefresh(alg: (typeof ALGORITHMS)[number]) {
  await ensureBuilt()
  const child = await startJsonChild<{ grantsPerSecond: number; cpuSecondsPerGrant: number }>(
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
    const sign = (signer: 'jose' | 'nodeSync', inFlight: number) =>
      measureInChild({ kind: 'sign', algorithm: alg, signer }, inFlight, RAW_SECONDS)
    const nodeSync = await sign('nodeSync', 1)
    const jose = await sign('jose', IN_FLIGHT)
    const server = await startUsersCore({
      config: benchConfig({ jwt: { algorithm: alg } }),
      users: 2 * IN_FLIGHT,
    })
    let writtenPerGrant: number
    let load: Awaited<ReturnType<typeof runLoad>>
    try {
      // Twice as many sessions as connections: a failed grant loses a token, not a connection.
      const sessions = await loginMany(server.info.url, 2 * IN_FLIGHT)
      const writtenBefore = readWriteBytes(server.pid)
      load = await runLoad(
        {
          url: server.info.url,
          method: 'POST',
          path: '/auth/refresh',
          mode: { kind: 'refresh', tokens: sessions.map((s) => s.refresh_token) },
          connections: IN_FLIGHT,
          durationSeconds: SECONDS,
          warmupSeconds: 1,
        },
        server.pid,
      )
      // The warm-up's grants wrote too.
      writtenPerGrant =
        (readWriteBytes(server.pid) - writtenBefore) / (load.total + load.warmupTotal)
    } finally {
      await server.stop()
    }
    const inCore = await measureCoreRefresh(alg)
    const grantCpu = cpuPerRequest(load)
    const ratio = nodeSync.cpuSecondsPerOp / grantCpu
    const non200 = Object.entries(load.statusCounts).filter(([c]) => c !== '200')
    figures.push(
      [
        `${alg} raw sign CPU per signature: node:crypto / jose`,
        `${cpuTime(nodeSync.cpuSecondsPerOp)} / ${cpuTime(jose.cpuSecondsPerOp)}`,
      ],
      [`${alg} server CPU per refresh grant`, cpuTime(grantCpu)],
      [`${alg} raw node:crypto sign CPU ÷ server CPU per grant`, fmt(ratio, 2)],
      [
        `${alg} HTTP refresh grants/s (secondary)`,
        `${fmt(okPerSecond(load))} (p50 ${fmt(load.latencyMs.p50, 1)} ms, p99 ${fmt(load.latencyMs.p99, 1)} ms${
          non200.length ? `; non-200: ${non200.map(([c, n]) => `${c}×${n}`).join(', ')}` : ''
        }); ÷ jose signs/s with ${IN_FLIGHT} in flight ${fmt(okPerSecond(load) / jose.opsPerSecond, 2)}`,
      ],
      [`${alg} bytes written to storage per grant (≈)`, fmt(writtenPerGrant)],
      [
        `${alg} core.refreshToken() in-process (no HTTP)`,
        `${cpuTime(inCore.cpuSecondsPerGrant)} of CPU per grant, ${fmt(inCore.grantsPerSecond)} grants/s`,
      ],
    )
    if (alg === 'RS256') {
      goals.push({
        name: 'RS256 raw sign CPU/signature ÷ server CPU/refresh',
        value: ratio,
        target: 0.5,
        kind: 'min',
      })
    }
  }
  return {
    id: 'refresh',
    title: `Refresh grants over HTTP (${IN_FLIGHT} connections) vs raw JWS signing, CPU per operation`,
    figures,
    goals,
    notes: [
      'the baseline is one synchronous node:crypto signature of an access-token-shaped payload in a child process that only signs; jose SignJWT (16 in flight) is a reference',
      'each request presents the newest refresh token of its session: every grant is a real rotation',
      'the in-process row is a reference: the same grants through core.refreshToken() in a process of its own, 16 in flight, with no HTTP and no load generator',
    ],
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
