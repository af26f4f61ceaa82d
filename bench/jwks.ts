// Scenario 4 (issue 6): GET /auth/jwks.json ÷ the bare node:http hello-world, same run.
import { describe, loadGet } from './api-key.js'
import { loadHello, startHello, startHonoHello } from './lib/hello.js'
import { okPerSecond } from './lib/load.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { benchConfig, startUsersCore } from './lib/users-core.js'

const SECONDS = 5

export async function run(): Promise<ScenarioResult> {
  const hello = await startHello()
  const hono = await startHonoHello()
  const server = await startUsersCore({ config: benchConfig(), users: 0 })
  try {
    const helloBefore = await loadHello(hello.info.url, SECONDS)
    const jwks = await loadGet(server.info.url, '/auth/jwks.json', {})
    const health = await loadGet(server.info.url, '/health', {})
    const honoHello = await loadHello(hono.info.url, SECONDS)
    const helloAfter = await loadHello(hello.info.url, SECONDS)
    const helloRps = (okPerSecond(helloBefore) + okPerSecond(helloAfter)) / 2
    return {
      id: 'jwks',
      title: 'GET /auth/jwks.json vs bare node:http hello-world',
      figures: [
        [
          'hello-world',
          `${fmt(helloRps)} req/s (before ${fmt(okPerSecond(helloBefore))}, after ${fmt(okPerSecond(helloAfter))})`,
        ],
        ['GET /auth/jwks.json', describe(jwks)],
        ['GET /health (reference: one DB round trip)', describe(health)],
        ['bare Hono hello-world on @hono/node-server (reference)', describe(honoHello)],
      ],
      goals: [
        {
          name: 'JWKS ÷ hello-world',
          value: okPerSecond(jwks) / helloRps,
          target: 0.9,
          kind: 'min',
        },
      ],
      notes: ['RS256 current + next key published (two 2048-bit JWKs, ~900 bytes)'],
    }
  } finally {
    await Promise.all([hello.stop(), hono.stop(), server.stop()])
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
