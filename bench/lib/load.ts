import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { REPO_ROOT } from './child.js'
import { processCpuSeconds } from './cpu.js'
import { type LoadResult, type LoadSpec, MEASURING } from './load-spec.js'

export type { LoadMode, LoadResult, LoadSpec } from './load-spec.js'

/**
 * Runs autocannon in a separate process for `spec` and returns what it measured; with
 * `serverPid`, also the CPU time that process spent during the measured run (warm-up excluded).
 */
export async function runLoad(spec: LoadSpec, serverPid?: number): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'users-core-load-'))
  const specFile = join(dir, 'spec.json')
  writeFileSync(specFile, JSON.stringify(spec))
  const cpu = () => (serverPid === undefined ? Number.NaN : processCpuSeconds(serverPid))
  try {
    const { line, cpuSeconds } = await new Promise<{ line: string; cpuSeconds: number }>(
      (done, fail) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', resolve(REPO_ROOT, 'bench/lib/load-worker.ts'), specFile],
          { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
        )
        let buffered = ''
        let cpuAtStart = Number.NaN
        let result: { line: string; cpuSeconds: number } | undefined
        child.stdout.setEncoding('utf8')
        child.stdout.on('data', (chunk: string) => {
          buffered += chunk
          for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
            const text = buffered.slice(0, nl).trim()
            buffered = buffered.slice(nl + 1)
            if (text === MEASURING) cpuAtStart = cpu()
            else if (text.startsWith('{')) result = { line: text, cpuSeconds: cpu() - cpuAtStart }
          }
        })
        child.once('exit', (code) =>
          code === 0 && result ? done(result) : fail(new Error(`load worker exited with ${code}`)),
        )
      },
    )
    return { ...(JSON.parse(line) as LoadResult), serverCpuSeconds: cpuSeconds }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Share of responses with status 2xx. */
export function okCount(result: LoadResult): number {
  return Object.entries(result.statusCounts)
    .filter(([code]) => code.startsWith('2'))
    .reduce((sum, [, n]) => sum + n, 0)
}

/** Successful (2xx) responses per second. */
export function okPerSecond(result: LoadResult): number {
  return okCount(result) / result.durationSeconds
}

/** Server CPU seconds per answered request of the measured run (NaN without a server pid). */
export function cpuPerRequest(result: LoadResult): number {
  return (result.serverCpuSeconds ?? Number.NaN) / result.total
}

/** Non-2xx statuses and errors summed over loads ('' when none). */
export function nonOk(loads: readonly LoadResult[]): string {
  const counts = new Map<string, number>()
  for (const load of loads) {
    for (const [code, n] of Object.entries(load.statusCounts)) {
      if (!code.startsWith('2')) counts.set(code, (counts.get(code) ?? 0) + n)
    }
    if (load.errors) counts.set('errors', (counts.get('errors') ?? 0) + load.errors)
  }
  return [...counts].map(([c, n]) => `${c}×${n}`).join(', ')
}
