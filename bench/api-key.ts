// Scenario 3 (issue 6): GET /users/me by X-API-Key ÷ a bare node:http hello-world measured in
// the same run; also GET /users/me with a bearer access token.
import { compareWithHello, describeRounds, HTTP_CONNECTIONS, startHello } from './lib/hello.js'
import { type LoadResult, nonOk, okPerSecond, runLoad } from './lib/load.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { benchConfig, login, seededUsername, startUsersCore } from './lib/users-core.js'

const ROUNDS = 3
const SECONDS = 4

/** `GET path` with `headers`, loaded like the hello-world. */
export function loadGet(
  url: string,
  path: string,
  headers: Record<string, string>,
  seconds = SECONDS,
): Promise<LoadResult> {
  return runLoad({
    url,
    method: 'GET',
    path,
    headers,
    mode: { kind: 'fixed' },
    connections: HTTP_CONNECTIONS,
    durationSeconds: seconds,
    warmupSeconds: 1,
  })
}

/** `rps (p50 / p99 ms)` plus any non-2xx statuses. */
export function describe(load: LoadResult): string {
  const bad = Object.entries(load.statusCounts).filter(([c]) => !c.startsWith('2'))
  return `${fmt(okPerSecond(load))} req/s (p50 ${fmt(load.latencyMs.p50, 1)} ms, p99 ${fmt(load.latencyMs.p99, 1)} ms)${
    bad.length ? `; non-2xx: ${bad.map(([c, n]) => `${c}×${n}`).join(', ')}` : ''
  }${load.errors ? `; ${load.errors} errors` : ''}`
}

export async function run(): Promise<ScenarioResult> {
  const hello = await startHello()
  const server = await startUsersCore({ config: benchConfig(), users: 1000 })
  try {
    const apiKey = server.info.apiKey ?? ''
    const { access_token } = await login(server.info.url, seededUsername(2))
    const me = (headers: Record<string, string>) => (seconds: number) =>
      loadGet(server.info.url, '/users/me', headers, seconds)
    const {
      hello: helloRounds,
      compared: [byKey, byBearer],
    } = await compareWithHello(hello.info.url, ROUNDS, SECONDS, [
      me({ 'x-api-key': apiKey }),
      me({ authorization: `Bearer ${access_token}` }),
    ])
    if (!byKey || !byBearer) throw new Error('missing comparison')
    return {
      id: 'api-key',
      title: 'GET /users/me (API key, bearer) vs bare node:http hello-world',
      figures: [
        ['hello-world', describeRounds(helloRounds)],
        ['GET /users/me, X-API-Key', describeRounds(byKey.rounds)],
        ['GET /users/me, Bearer JWT', describeRounds(byBearer.rounds)],
        ['bearer ÷ hello-world', fmt(byBearer.ratio, 2)],
      ],
      goals: [
        {
          name: 'API-key /users/me ÷ hello-world',
          value: byKey.ratio,
          target: 0.5,
          kind: 'min',
        },
      ],
      notes: [
        `${HTTP_CONNECTIONS} connections; ${ROUNDS} rounds of hello-world, API key, bearer, ${SECONDS} s each after 1 s warm-up; each ratio is the median over the rounds of the route ÷ the hello-world of its own round; server log_level silent`,
        `non-2xx or errors, if any: ${nonOk([...byKey.rounds, ...byBearer.rounds]) || 'none'}`,
      ],
    }
  } finally {
    await Promise.all([hello.stop(), server.stop()])
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
