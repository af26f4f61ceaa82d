// The server's own view of its requests: the request-duration histogram from `/metrics`, so a
// scenario can tell the time a request spent inside the server from the time the load generator
// saw (which also holds the kernel's and the scheduler's waits on a shared machine).

const HISTOGRAM = 'users_core_http_request_duration_seconds_bucket'

/** Cumulative bucket counts (upper bound in seconds → count) of one method and route. */
export type Buckets = Map<number, number>

/** Reads the duration buckets of `method route` from the server's `/metrics`. */
export async function readDurationBuckets(
  url: string,
  adminApiKey: string,
  method: string,
  route: string,
): Promise<Buckets> {
  const res = await fetch(`${url}/metrics`, { headers: { 'x-api-key': adminApiKey } })
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`)
  const buckets: Buckets = new Map()
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith(HISTOGRAM)) continue
    if (!line.includes(`method="${method}"`) || !line.includes(`route="${route}"`)) continue
    const le = /le="([^"]+)"/.exec(line)?.[1]
    if (le === undefined) continue
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le)
    buckets.set(bound, Number(line.slice(line.lastIndexOf(' ') + 1)))
  }
  return buckets
}

/** "≤ 5 ms 55 %, ≤ 10 ms 87 %, …" for the requests between two readings. */
export function describeBetween(before: Buckets, after: Buckets, boundsMs: number[]): string {
  const total =
    (after.get(Number.POSITIVE_INFINITY) ?? 0) - (before.get(Number.POSITIVE_INFINITY) ?? 0)
  if (total === 0) return 'no requests'
  const shares = boundsMs.map((ms) => {
    const n = (after.get(ms / 1000) ?? 0) - (before.get(ms / 1000) ?? 0)
    return `≤ ${ms} ms ${Math.round((100 * n) / total)} %`
  })
  return `${shares.join(', ')} (${total} requests)`
}
