// Scenario 3 (issue 6): GET /users/me by X-API-Key ÷ a bare node:http hello-world measured in
// the same run; also GET /users/me with a bearer access token.
import { HTTP_CONNECTIONS, loadHello, startHello } from './lib/hello.js'
import { type LoadResult, okPerSecond, runLoad } from './lib/load.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { benchConfig, login, seededUsername, startUsersCore } from './lib/users-core.js'

const SECONDS = 5

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
    const helloBefore = await loadHello(hello.info.url, SECONDS)
    const byKey = await loadGet(server.info.url, '/users/me', { 'x-api-key': apiKey })
    const byBearer = await loadGet(server.info.url, '/users/me', {
      authorization: `Bearer ${access_token}`,
    })
    const helloAfter = await loadHello(hello.info.url, SECONDS)
    const helloRps = (okPerSecond(helloBefore) + okPerSecond(helloAfter)) / 2
    return {
      id: 'api-key',
      title: 'GET /users/me (API key, bearer) vs bare node:http hello-world',
      figures: [
        [
          'hello-world',
          `${fmt(helloRps)} req/s (before ${fmt(okPerSecond(helloBefore))}, after ${fmt(okPerSecond(helloAfter))})`,
        ],
        ['GET /users/me, X-API-Key', describe(byKey)],
        ['GET /users/me, Bearer JWT', describe(byBearer)],
        ['bearer ÷ hello-world', fmt(okPerSecond(byBearer) / helloRps, 2)],
      ],
      goals: [
        {
          name: 'API-key /users/me ÷ hello-world',
          value: okPerSecond(byKey) / helloRps,
          target: 0.5,
          kind: 'min',
        },
      ],
      notes: [
        `${HTTP_CONNECTIONS} connections, ${SECONDS} s per figure after 1 s warm-up; server log_level silent`,
      ],
    }
  } finally {
    await Promise.all([hello.stop(), server.stop()])
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
