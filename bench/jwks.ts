// Scenario 4 (issue 6): GET /auth/jwks.json ÷ the bare node:http hello-world, same run.
import { loadGet } from './api-key.js'
import {
  compareWithHello,
  describeRounds,
  startHello,
  startHonoHello,
  startReplicaOf,
} from './lib/hello.js'
import { nonOk } from './lib/load.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { benchConfig, startUsersCore } from './lib/users-core.js'

const ROUNDS = 3
const SECONDS = 4

export async function run(): Promise<ScenarioResult> {
  const hello = await startHello()
  const hono = await startHonoHello()
  const server = await startUsersCore({ config: benchConfig(), users: 0 })
  const replica = await startReplicaOf(server.info.url, '/auth/jwks.json')
  try {
    const get = (url: string, path: string) => (seconds: number) => loadGet(url, path, {}, seconds)
    const {
      hello: helloRounds,
      compared: [jwks, same, health, honoHello],
    } = await compareWithHello(hello.info.url, ROUNDS, SECONDS, [
      get(server.info.url, '/auth/jwks.json'),
      get(replica.info.url, '/auth/jwks.json'),
      get(server.info.url, '/health'),
      get(hono.info.url, '/'),
    ])
    if (!jwks || !same || !health || !honoHello) throw new Error('missing comparison')
    return {
      id: 'jwks',
      title: 'GET /auth/jwks.json vs bare node:http hello-world',
      figures: [
        ['hello-world', describeRounds(helloRounds)],
        ['GET /auth/jwks.json', describeRounds(jwks.rounds)],
        [
          'the same response from a bare node:http server (reference)',
          `${describeRounds(same.rounds)}; ÷ hello-world ${fmt(same.ratio, 2)}`,
        ],
        [
          'GET /health (reference: one DB round trip)',
          `${describeRounds(health.rounds)}; ÷ hello-world ${fmt(health.ratio, 2)}`,
        ],
        [
          'bare Hono hello-world on @hono/node-server (reference)',
          `${describeRounds(honoHello.rounds)}; ÷ hello-world ${fmt(honoHello.ratio, 2)}`,
        ],
      ],
      goals: [{ name: 'JWKS ÷ hello-world', value: jwks.ratio, target: 0.9, kind: 'min' }],
      notes: [
        'RS256 current + next key published (two 2048-bit JWKs, ~900 bytes)',
        'the reference "same response" replays the headers and body users-core answered (minus Date and Connection, which node writes): the gap between it and the hello-world is the response, the gap between JWKS and it is users-core\'s own work per request',
        `${ROUNDS} rounds of hello-world, JWKS, the same response, /health, Hono, ${SECONDS} s each after 1 s warm-up; each ratio is the median over the rounds of the route ÷ the hello-world of its own round`,
        `non-2xx or errors, if any: ${nonOk([...jwks.rounds, ...same.rounds, ...health.rounds, ...honoHello.rounds]) || 'none'}`,
      ],
    }
  } finally {
    await Promise.all([hello.stop(), hono.stop(), replica.stop(), server.stop()])
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
