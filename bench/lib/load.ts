import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { REPO_ROOT } from './child.js'
import type { LoadResult, LoadSpec } from './load-spec.js'

export type { LoadMode, LoadResult, LoadSpec } from './load-spec.js'

/** Runs autocannon in a separate process for `spec` and returns what it measured. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'users-core-load-'))
  const specFile = join(dir, 'spec.json')
  writeFileSync(specFile, JSON.stringify(spec))
  try {
    const stdout = await new Promise<string>((done, fail) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', resolve(REPO_ROOT, 'bench/lib/load-worker.ts'), specFile],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      )
      let out = ''
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (chunk: string) => {
        out += chunk
      })
      child.once('exit', (code) =>
        code === 0 ? done(out) : fail(new Error(`load worker exited with ${code}`)),
      )
    })
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as LoadResult
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
