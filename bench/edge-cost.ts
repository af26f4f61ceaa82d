// A tuning aid, not a scenario: the fast path's own JavaScript per JWKS answer, in nanoseconds,
// with a request and a response that do nothing (no socket, no parser, no write). What it
// prints is the work `bench:jwks` compares with the same-bytes replica, measured without the
// noise of the network and the load generator.
//   npx tsx bench/edge-cost.ts [rounds]
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ensureBuilt, PRODUCT_ROOT } from './lib/build.js'

await ensureBuilt()
const { init } = (await import(`${PRODUCT_ROOT}/core.js`)) as typeof import('../src/core.js')
const { createAppParts } = (await import(
  `${PRODUCT_ROOT}/http/app.js`
)) as typeof import('../src/http/app.js')
const { createEdge } = (await import(
  `${PRODUCT_ROOT}/http/edge.js`
)) as typeof import('../src/http/edge.js')
const { createLogger } = (await import(
  `${PRODUCT_ROOT}/lib/logger.js`
)) as typeof import('../src/lib/logger.js')

const rounds = Number(process.argv[2] ?? 5)
const core = await init({
  database_url: 'sqlite::memory:',
  log_level: 'silent',
  rate_limit: { enabled: false },
})
const logger = createLogger('silent')
const parts = createAppParts(core, { logger })
const edge = createEdge(
  {
    core,
    policy: parts.policy,
    documents: parts.documents,
    clientAddress: parts.clientAddress,
    logger,
    metrics: parts.metrics,
  },
  () => {
    throw new Error('the JWKS request left the fast path')
  },
)
const req = {
  url: '/auth/jwks.json',
  method: 'GET',
  headers: { host: '127.0.0.1', connection: 'keep-alive' },
  socket: { remoteAddress: '127.0.0.1' },
} as unknown as IncomingMessage
const res = {
  headersSent: false,
  writeHead() {
    return this
  },
  end() {},
} as unknown as ServerResponse

const CALLS = 300_000
for (let round = 0; round < rounds; round++) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) edge(req, res)
  const ns = Number(process.hrtime.bigint() - started) / CALLS
  console.log(`round ${round + 1}: ${ns.toFixed(0)} ns of the fast path per JWKS answer`)
}
parts.metrics.close()
await core.close()
