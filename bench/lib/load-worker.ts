// Runs one autocannon load in this process (a separate process from the server under test and
// from the orchestrator) and prints its LoadResult as JSON on stdout.
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'
import { type LoadResult, type LoadSpec, MEASURING } from './load-spec.js'

const spec = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LoadSpec
// Shared by the warm-up and the measured run: rotated refresh tokens carry over.
const pool = spec.mode.kind === 'refresh' ? [...spec.mode.tokens] : []

function randomIndex(count: number): number {
  return 1 + Math.floor(Math.random() * count)
}

function requestFor(): autocannon.Request {
  const base: autocannon.Request = {
    method: spec.method,
    path: spec.path,
    headers: { 'content-type': 'application/json', ...spec.headers },
  }
  const mode = spec.mode
  switch (mode.kind) {
    case 'fixed':
      return mode.body === undefined ? base : { ...base, body: mode.body }
    case 'login':
      return {
        ...base,
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({
            username: `${mode.prefix}${String(randomIndex(mode.count)).padStart(mode.pad, '0')}`,
            password: mode.password,
          }),
        }),
      }
    case 'peer-login':
      return {
        ...base,
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({
            email: `${mode.prefix}${randomIndex(mode.count)}@bench.test`,
            password: mode.password,
          }),
        }),
      }
    case 'refresh': {
      return {
        ...base,
        setupRequest: (req) => ({
          ...req,
          // An empty pool means earlier grants failed; the junk token is answered 401 and shows.
          body: JSON.stringify({ refresh_token: pool.shift() ?? 'exhausted' }),
        }),
        onResponse: (status, body) => {
          if (status !== 200) return
          const token = (JSON.parse(body) as { refresh_token?: string }).refresh_token
          if (token) pool.push(token)
        },
      }
    }
  }
}

/** Longer than the deepest queue a warm-up leaves: 8 logins over 2 hash slots ≈ 0.3 s. */
const SETTLE_AFTER_WARMUP_MS = 1000

async function run(durationSeconds: number, amount?: number): Promise<autocannon.Result> {
  return autocannon({
    url: spec.url,
    connections: spec.connections,
    ...(amount ? { amount } : { duration: durationSeconds }),
    timeout: spec.timeoutSeconds ?? 10,
    requests: [requestFor()],
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
  })
}

const warmup = spec.warmupSeconds ? await run(spec.warmupSeconds) : undefined
// Requests the warm-up left in flight are still being served (a login queued for a hash takes
// a few hundred ms): let them finish, so the measured run does not start behind them.
if (warmup) await new Promise((resolve) => setTimeout(resolve, SETTLE_AFTER_WARMUP_MS))
// The parent reads the server's CPU time at this line and at the result line.
process.stdout.write(`${MEASURING}\n`)
const result = await run(spec.durationSeconds, spec.amount)
const statusCounts: Record<string, number> = {}
const byStatus = (result as unknown as { statusCodeStats?: Record<string, { count: number }> })
  .statusCodeStats
for (const [code, { count }] of Object.entries(byStatus ?? {})) statusCounts[code] = count
const out: LoadResult = {
  requestsPerSecond: result.requests.total / result.duration,
  total: result.requests.total,
  warmupTotal: warmup?.requests.total ?? 0,
  durationSeconds: result.duration,
  latencyMs: {
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    mean: result.latency.mean,
  },
  statusCounts,
  errors: result.errors,
  timeouts: result.timeouts,
}
process.stdout.write(`${JSON.stringify(out)}\n`)
