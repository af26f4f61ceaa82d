import { type JsonChild, startJsonChild } from './child.js'
import { type LoadResult, okPerSecond, runLoad } from './load.js'
import { fmt } from './report.js'
import { median } from './stats.js'

/** Starts the bare node:http hello-world in its own process. */
export function startHello(): Promise<JsonChild<{ url: string; pid: number }>> {
  return startJsonChild('bench/hello-server.ts')
}

/** Starts a bare Hono app on @hono/node-server (the framework users-core uses, no middleware). */
export function startHonoHello(): Promise<JsonChild<{ url: string; pid: number }>> {
  return startJsonChild('bench/hono-hello-server.ts')
}

/**
 * Starts a bare node:http server that sends, for every request, the headers and body that
 * `url` + `path` answered just now (minus the ones node writes itself): the same bytes on the
 * wire, with none of the work of producing them.
 */
export async function startReplicaOf(
  url: string,
  path: string,
): Promise<JsonChild<{ url: string; pid: number }>> {
  const response = await fetch(`${url}${path}`)
  const headers = [...response.headers].filter(([name]) => !NODE_WRITES.has(name))
  const replica = { headers, body: await response.text() }
  return startJsonChild('bench/replica-server.ts', { BENCH_REPLICA: JSON.stringify(replica) })
}

const NODE_WRITES = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding'])

/** Connections used for every "requests per second" comparison against hello-world. */
export const HTTP_CONNECTIONS = 16

/** `GET /` on the hello-world, loaded like the users-core routes it is compared with. */
export function loadHello(url: string, seconds: number): Promise<LoadResult> {
  return runLoad({
    url,
    method: 'GET',
    path: '/',
    mode: { kind: 'fixed' },
    connections: HTTP_CONNECTIONS,
    durationSeconds: seconds,
    warmupSeconds: 1,
  })
}

/** A load compared with the hello-world, round by round. */
export interface Compared {
  /** One result per round, in order. */
  rounds: LoadResult[]
  /** Median over the rounds of this round's rate ÷ the same round's hello-world rate. */
  ratio: number
}

/**
 * Runs `rounds` rounds of the hello-world followed by each of `loads`, and divides each load by
 * the hello-world of its own round. On a shared machine the hello-world's own rate drifts by a
 * third within a minute (28,000 → 37,000 req/s seen in one run), so a ratio taken against a
 * figure measured seconds away is more drift than service; the median of adjacent pairs is not.
 */
export async function compareWithHello(
  helloUrl: string,
  rounds: number,
  seconds: number,
  loads: readonly ((seconds: number) => Promise<LoadResult>)[],
): Promise<{ hello: LoadResult[]; compared: Compared[] }> {
  const hello: LoadResult[] = []
  const results: LoadResult[][] = loads.map(() => [])
  for (let round = 0; round < rounds; round++) {
    hello.push(await loadHello(helloUrl, seconds))
    for (const [i, load] of loads.entries()) results[i]?.push(await load(seconds))
  }
  return {
    hello,
    compared: results.map((rounds) => ({
      rounds,
      ratio: median(rounds.map((r, i) => okPerSecond(r) / okPerSecond(hello[i] as LoadResult))),
    })),
  }
}

/** `median req/s (round: a, b, c)` of a series of loads. */
export function describeRounds(rounds: readonly LoadResult[]): string {
  const rates = rounds.map(okPerSecond)
  return `${fmt(median(rates))} req/s median (rounds: ${rates.map((r) => fmt(r)).join(', ')})`
}
