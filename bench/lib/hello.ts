import { type JsonChild, startJsonChild } from './child.js'
import { cpuTime } from './cpu.js'
import { cpuPerRequest, type LoadResult, okPerSecond, runLoad } from './load.js'
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
export function loadHello(hello: JsonChild<{ url: string }>, seconds: number): Promise<LoadResult> {
  return runLoad(
    {
      url: hello.info.url,
      method: 'GET',
      path: '/',
      mode: { kind: 'fixed' },
      connections: HTTP_CONNECTIONS,
      durationSeconds: seconds,
      warmupSeconds: 1,
    },
    hello.pid,
  )
}

/** A load compared with the hello-world, round by round. */
export interface Compared {
  /** One result per round, in order. */
  rounds: LoadResult[]
  /** Median over the rounds of the hello-world's CPU per request ÷ this load's, same round. */
  cpuRatio: number
  /** Median over the rounds of this round's rate ÷ the same round's hello-world rate. */
  ratio: number
}

/**
 * Runs `rounds` rounds of the hello-world followed by each of `loads`, and divides each load by
 * the hello-world of its own round, so the drift of a shared machine hits both sides of a ratio.
 */
export async function compareWithHello(
  hello: JsonChild<{ url: string }>,
  rounds: number,
  seconds: number,
  loads: readonly ((seconds: number) => Promise<LoadResult>)[],
): Promise<{ hello: LoadResult[]; compared: Compared[] }> {
  const helloRounds: LoadResult[] = []
  const results: LoadResult[][] = loads.map(() => [])
  for (let round = 0; round < rounds; round++) {
    helloRounds.push(await loadHello(hello, seconds))
    for (const [i, load] of loads.entries()) results[i]?.push(await load(seconds))
  }
  const base = (i: number) => helloRounds[i] as LoadResult
  return {
    hello: helloRounds,
    compared: results.map((rounds) => ({
      rounds,
      cpuRatio: median(rounds.map((r, i) => cpuPerRequest(base(i)) / cpuPerRequest(r))),
      ratio: median(rounds.map((r, i) => okPerSecond(r) / okPerSecond(base(i)))),
    })),
  }
}

/** `CPU µs per request and req/s, medians (rounds)` of a series of loads. */
export function describeRounds(rounds: readonly LoadResult[]): string {
  const cpu = rounds.map(cpuPerRequest)
  const rates = rounds.map(okPerSecond)
  const list = (values: number[], show: (v: number) => string) =>
    rounds.length > 1 ? ` (rounds: ${values.map(show).join(', ')})` : ''
  return `${cpuTime(median(cpu))} of server CPU per request${list(cpu, cpuTime)}; ${fmt(median(rates))} req/s${list(rates, (r) => fmt(r))}`
}
