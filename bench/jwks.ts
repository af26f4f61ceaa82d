// GET /auth/jwks.json: server CPU per request ÷ a bare node:http hello-world's, same run; with
// references that split the gap into the response's bytes, the framework and users-core's work.
import { loadGet } from './api-key.js'
import {
  compareWithHello,
  describeRounds,
  startHello,
  startHonoHello,
  startReplicaOf,
} from './lib/hello.js'
import { nonOk } from './lib/load.js'
import { rounds, seconds } from './lib/quick.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { benchConfig, startUsersCore } from './lib/users-core.js'

const ROUNDS = rounds(3)
const SECONDS = seconds(4)

export async function run(): Promise<ScenarioResult> {
  const hello = await startHello()
  const hono = await startHonoHello()
  const server = await startUsersCore({ config: benchConfig(), users: 0 })
  const replica = await startReplicaOf(server.info.url, '/auth/jwks.json')
  try {
    const {
      hello: helloRounds,
      compared: [jwks, same, health, honoHello],
    } = await compareWithHello(hello, ROUNDS, SECONDS, [
      (duration) => loadGet(server, '/auth/jwks.json', {}, duration),
      (duration) => loadGet(replica, '/auth/jwks.json', {}, duration),
      (duration) => loadGet(server, '/health', {}, duration),
      (duration) => loadGet(hono, '/', {}, duration),
    ])
    if (!jwks || !same || !health || !honoHello) throw new Error('missing comparison')
    const ratios = (c: typeof jwks) =>
      `CPU ratio ${fmt(c.cpuRatio, 2)}, throughput ÷ hello-world ${fmt(c.ratio, 2)}`
    return {
      id: 'jwks',
      title: 'GET /auth/jwks.json vs bare node:http hello-world, server CPU per request',
      figures: [
        ['hello-world', describeRounds(helloRounds)],
        ['GET /auth/jwks.json', `${describeRounds(jwks.rounds)}; ${ratios(jwks)}`],
        [
          'the same response from a bare node:http server (reference)',
          `${describeRounds(same.rounds)}; ${ratios(same)}`,
        ],
        [
          'GET /health (reference: one DB round trip)',
          `${describeRounds(health.rounds)}; ${ratios(health)}`,
        ],
        [
          'bare Hono hello-world on @hono/node-server (reference)',
          `${describeRounds(honoHello.rounds)}; ${ratios(honoHello)}`,
        ],
      ],
      goals: [
        {
          name: 'hello-world CPU/request ÷ JWKS CPU/request',
          value: jwks.cpuRatio,
          target: 0.5,
          kind: 'min',
        },
      ],
      notes: [
        'RS256 current + next key published (two 2048-bit JWKs, ~900 bytes)',
        'the reference "same response" replays the headers and body users-core answered (minus Date and Connection, which node writes): the gap between it and the hello-world is the response, the gap between JWKS and it is users-core\'s own work per request',
        `${ROUNDS} round(s) of hello-world, JWKS, the same response, /health, Hono, ${SECONDS} s each after 1 s warm-up; each ratio is the median over the rounds against the hello-world of its own round`,
        `non-2xx or errors, if any: ${nonOk([...jwks.rounds, ...same.rounds, ...health.rounds, ...honoHello.rounds]) || 'none'}`,
      ],
    }
  } finally {
    await Promise.all([hello.stop(), hono.stop(), replica.stop(), server.stop()])
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
