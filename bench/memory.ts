// Resident memory of the server process, idle and under login load,
// read from /proc/<pid>/status of the server child.
import { readRssMiB } from './lib/child.js'
import { runLoad } from './lib/load.js'
import { seconds } from './lib/quick.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { median } from './lib/stats.js'
import { benchConfig, loginRequests, startUsersCore } from './lib/users-core.js'

const USERS = 1000
const CONNECTIONS = 8
const SECONDS = seconds(10)

export async function run(): Promise<ScenarioResult> {
  const server = await startUsersCore({ config: benchConfig(), users: USERS })
  try {
    const { pid, url } = server.info
    await new Promise((r) => setTimeout(r, 2000))
    const idle = readRssMiB(pid)
    const samples: number[] = []
    const sampler = setInterval(() => samples.push(readRssMiB(pid).rssMiB), 200)
    const load = await runLoad({
      url,
      ...loginRequests(USERS),
      connections: CONNECTIONS,
      durationSeconds: SECONDS,
    })
    clearInterval(sampler)
    await new Promise((r) => setTimeout(r, 2000))
    const after = readRssMiB(pid)
    const poolSize = (64 * 1024 * 2) / 1024
    return {
      id: 'memory',
      title: 'Server RSS idle and under login load',
      figures: [
        ['RSS idle (after start, 1,000 users)', `${fmt(idle.rssMiB, 1)} MiB`],
        [
          `RSS under login load (${CONNECTIONS} connections, ${fmt(load.requestsPerSecond, 1)} logins/s)`,
          `median ${fmt(median(samples), 1)} MiB, max ${fmt(Math.max(...samples), 1)} MiB (${samples.length} samples)`,
        ],
        [
          'peak RSS (VmHWM) / RSS 2 s after the load',
          `${fmt(after.hwmMiB, 1)} / ${fmt(after.rssMiB, 1)} MiB`,
        ],
      ],
      goals: [],
      notes: [
        `two Argon2id hashes at 64 MiB each run at once (max_concurrent_hashes = nproc): about ${poolSize} MiB of hash memory is expected under load`,
        'no memory goal; the figures are for capacity planning',
      ],
    }
  } finally {
    await server.stop()
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
