// A baseline in a process of its own: only the raw operation named in BENCH_RAW (a RawOp), run
// in a closed loop, so its CPU per operation (all threads, from /proc) has nothing else in it.
// Started by bench/lib/raw.ts (measureInChild); announces a RawCpuResult on fd 3.
import { argon2Verifier } from './lib/argon2-raw.js'
import { announce } from './lib/child.js'
import { processCpuSeconds } from './lib/cpu.js'
import { measureConcurrent, type RawCpuResult, type RawOp } from './lib/raw.js'
import { signers } from './lib/sign-raw.js'

const { op, concurrency, seconds } = JSON.parse(process.env.BENCH_RAW ?? '') as {
  op: RawOp
  concurrency: number
  seconds: number
}

const run = op.kind === 'argon2-verify' ? await argon2Verifier() : signers(op.algorithm)[op.signer]
let cpuAtStart = 0
const result = await measureConcurrent(run, concurrency, seconds, 1, () => {
  cpuAtStart = processCpuSeconds(process.pid)
})
const info: RawCpuResult = {
  ...result,
  cpuSecondsPerOp: (processCpuSeconds(process.pid) - cpuAtStart) / result.ops,
}
announce(info)
