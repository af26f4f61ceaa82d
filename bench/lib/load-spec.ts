/** How each request of a load run is made. */
export type LoadMode =
  /** The same request every time. */
  | { kind: 'fixed'; body?: string }
  /** `POST {username, password}` for a random user `${prefix}${n}`, n in [1, count]. */
  | { kind: 'login'; prefix: string; count: number; pad: number; password: string }
  /** better-auth's sign-in: `{email, password}` for a random `${prefix}${n}@bench.test`. */
  | { kind: 'peer-login'; prefix: string; count: number; password: string }
  /**
   * `POST {refresh_token}`: each request takes a token from the pool and its response puts the
   * rotated one back, so every grant is a real rotation (never a grace-period repeat).
   */
  | { kind: 'refresh'; tokens: string[] }

/** One load run, executed by `load-worker.ts` in its own process. */
export interface LoadSpec {
  url: string
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  mode: LoadMode
  connections: number
  durationSeconds: number
  /**
   * Requests of the measured run instead of a duration: it ends when all are answered, so no
   * request is half-served at either end of the window its server CPU is read over.
   */
  amount?: number
  /** A discarded run first, so JIT and caches are warm. */
  warmupSeconds?: number
  /** Requests per second over all connections; unset = as fast as the server answers. */
  overallRate?: number
  timeoutSeconds?: number
}

/** The line the load worker prints when the measured run starts (after warm-up and settling). */
export const MEASURING = 'measuring'

/** What a load run measured. */
export interface LoadResult {
  requestsPerSecond: number
  total: number
  /** Responses during the discarded warm-up. */
  warmupTotal: number
  durationSeconds: number
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number }
  statusCounts: Record<string, number>
  errors: number
  timeouts: number
  /** CPU seconds the server process spent during the measured run (set by `runLoad`). */
  serverCpuSeconds?: number
}
