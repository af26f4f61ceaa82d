import type { SigningAlgorithm } from '../../src/domain/records.js'
import { startJsonChild } from './child.js'
import { percentile } from './stats.js'

/** Throughput and latency of an operation run in a closed loop. */
export interface RawResult {
  opsPerSecond: number
  ops: number
  p50Ms: number
  p99Ms: number
}

/** A raw result measured in a child process, with that process's CPU per operation. */
export interface RawCpuResult extends RawResult {
  cpuSecondsPerOp: number
}

/** The baselines the HTTP figures are divided by. */
export type RawOp =
  /** `@node-rs/argon2` verify at the spec's default parameters. */
  | { kind: 'argon2-verify' }
  /** A JWS signature of an access-token-shaped payload (see sign-raw.ts). */
  | { kind: 'sign'; algorithm: SigningAlgorithm; signer: 'jose' | 'nodeSync' | 'nodeAsync' }

/**
 * Runs `op` with `concurrency` calls in flight for `seconds` (after a short warm-up) and reports
 * completions per second: the physical ceiling the HTTP figures are divided by. `onStart` runs
 * when the measured loop begins.
 */
export async function measureConcurrent(
  op: () => Promise<unknown> | unknown,
  concurrency: number,
  seconds: number,
  warmupSeconds = 1,
  onStart: () => void = () => {},
): Promise<RawResult> {
  await loop(op, concurrency, warmupSeconds * 1000)
  onStart()
  const started = performance.now()
  const latencies = await loop(op, concurrency, seconds * 1000)
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    opsPerSecond: latencies.length / elapsed,
    ops: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  }
}

/** {@link measureConcurrent} of `op` in a child process that does nothing else (raw-child.ts). */
export async function measureInChild(
  op: RawOp,
  concurrency: number,
  seconds: number,
): Promise<RawCpuResult> {
  const child = await startJsonChild<RawCpuResult>('bench/raw-child.ts', {
    BENCH_RAW: JSON.stringify({ op, concurrency, seconds }),
  })
  await child.stop()
  return child.info
}

async function loop(
  op: () => Promise<unknown> | unknown,
  concurrency: number,
  ms: number,
): Promise<number[]> {
  const deadline = performance.now() + ms
  const latencies: number[] = []
  let syncOps = 0
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      await op()
      latencies.push(performance.now() - t0)
      // A synchronous op never yields; let timers and I/O breathe now and then.
      if (++syncOps % 256 === 0) await new Promise((r) => setImmediate(r))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return latencies
}
