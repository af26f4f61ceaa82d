// GET /users/me by X-API-Key and by bearer access token: server CPU per request ÷ a bare
// node:http hello-world's, measured in the same run.
import type { JsonChild } from './lib/child.js'
import { cpuTime } from './lib/cpu.js'
import { compareWithHello, describeRounds, HTTP_CONNECTIONS, startHello } from './lib/hello.js'
import { cpuPerRequest, type LoadResult, nonOk, okPerSecond, runLoad } from './lib/load.js'
import { rounds, seconds } from './lib/quick.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { benchConfig, login, seededUsername, startUsersCore } from './lib/users-core.js'

const ROUNDS = rounds(3)
const SECONDS = seconds(4)

/** `GET path` with `headers` on `server`, loaded like the hello-world; its CPU is read. */
export function loadGet(
  server: JsonChild<{ url: string }>,
  path: string,
  headers: Record<string, string>,
  duration = SECONDS,
): Promise<LoadResult> {
  return runLoad(
    {
      url: server.info.url,
      method: 'GET',
      path,
      headers,
      mode: { kind: 'fixed' },
      connections: HTTP_CONNECTIONS,
      durationSeconds: duration,
      warmupSeconds: 1,
    },
    server.pid,
  )
}

/** `CPU per request, rps (p50 / p99 ms)` plus any non-2xx statuses. */
export function describe(load: LoadResult): string {
  const bad = Object.entries(load.statusCounts).filter(([c]) => !c.startsWith('2'))
  return `${cpuTime(cpuPerRequest(load))} of server CPU per request; ${fmt(okPerSecond(load))} req/s (p50 ${fmt(load.latencyMs.p50, 1)} ms, p99 ${fmt(load.latencyMs.p99, 1)} ms)${
    bad.length ? `; non-2xx: ${bad.map(([c, n]) => `${c}×${n}`).join(', ')}` : ''
  }${load.errors ? `; ${load.errors} errors` : ''}`
}

export async function run(): Promise<ScenarioResult> {
  const hello = await startHello()
  const server = await startUsersCore({ config: benchConfig(), users: 1000 })
  try {
    const apiKey = server.info.apiKey ?? ''
    const { access_token } = await login(server.info.url, seededUsername(2))
    const me = (headers: Record<string, string>) => (duration: number) =>
      loadGet(server, '/users/me', headers, duration)
    const {
      hello: helloRounds,
      compared: [byKey, byBearer],
    } = await compareWithHello(hello, ROUNDS, SECONDS, [
      me({ 'x-api-key': apiKey }),
      me({ authorization: `Bearer ${access_token}` }),
    ])
    if (!byKey || !byBearer) throw new Error('missing comparison')
    return {
      id: 'api-key',
      title:
        'GET /users/me (API key, bearer) vs bare node:http hello-world, server CPU per request',
      figures: [
        ['hello-world', describeRounds(helloRounds)],
        ['GET /users/me, X-API-Key', describeRounds(byKey.rounds)],
        ['GET /users/me, Bearer JWT', describeRounds(byBearer.rounds)],
        [
          'throughput ÷ hello-world (secondary): API key / bearer',
          `${fmt(byKey.ratio, 2)} / ${fmt(byBearer.ratio, 2)}`,
        ],
        [
          'latency p50 / p99 (last round): API key; bearer',
          [byKey, byBearer]
            .map((c) => c.rounds.at(-1) as LoadResult)
            .map((r) => `${fmt(r.latencyMs.p50, 1)} / ${fmt(r.latencyMs.p99, 1)} ms`)
            .join('; '),
        ],
      ],
      goals: [
        {
          name: 'hello-world CPU/request ÷ API-key /users/me CPU/request',
          value: byKey.cpuRatio,
          target: 0.4,
          kind: 'min',
        },
        {
          name: 'hello-world CPU/request ÷ bearer /users/me CPU/request',
          value: byBearer.cpuRatio,
          target: 0.4,
          kind: 'min',
        },
      ],
      notes: [
        `${HTTP_CONNECTIONS} connections; ${ROUNDS} round(s) of hello-world, API key, bearer, ${SECONDS} s each after 1 s warm-up; each ratio is the median over the rounds of the hello-world's CPU per request ÷ the route's, same round; server log_level silent`,
        `non-2xx or errors, if any: ${nonOk([...byKey.rounds, ...byBearer.rounds]) || 'none'}`,
      ],
    }
  } finally {
    await Promise.all([hello.stop(), server.stop()])
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
