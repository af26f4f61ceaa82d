// The subset of autocannon 9's API the benchmarks use (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Request {
      method?: string
      path?: string
      headers?: Record<string, string>
      body?: string
      setupRequest?: (req: Request, context: Record<string, unknown>) => Request
      onResponse?: (
        status: number,
        body: string,
        context: Record<string, unknown>,
        headers: Record<string, string>,
      ) => void
    }
    interface Options {
      url: string
      connections?: number
      duration?: number
      amount?: number
      timeout?: number
      overallRate?: number
      requests?: Request[]
    }
    interface Histogram {
      p50: number
      p90: number
      p99: number
      max: number
      mean: number
    }
    interface Result {
      duration: number
      errors: number
      timeouts: number
      latency: Histogram
      requests: Histogram & { total: number; average: number }
    }
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>
  export default autocannon
}
