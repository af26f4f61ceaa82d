import { execSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, freemem, loadavg, totalmem } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { FROM_SRC } from './build.js'
import { REPO_ROOT } from './child.js'
import { CLK_TCK } from './cpu.js'
import { QUICK } from './quick.js'

/** A goal: `value` compared with `target`. */
export interface Goal {
  name: string
  value: number
  target: number
  /** `min`: value must be at least target; `max`: at most. */
  kind: 'min' | 'max'
  unit?: string
}

/** What a scenario measured, printed and saved as JSON. */
export interface ScenarioResult {
  id: string
  title: string
  /** Label and formatted value, in print order. */
  figures: [string, string][]
  goals: Goal[]
  notes: string[]
}

/** True when the goal is met. */
export function passes(goal: Goal): boolean {
  return goal.kind === 'min' ? goal.value >= goal.target : goal.value <= goal.target
}

/** A number with thousands separators and `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return String(value)
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })
}

/** The goal as one line: `name: value (goal >= target) PASS`. */
export function goalLine(goal: Goal): string {
  const unit = goal.unit ?? ''
  const digits = Math.abs(goal.value) < 10 ? 2 : 1
  const op = goal.kind === 'min' ? '>=' : '<='
  return `${goal.name}: ${fmt(goal.value, digits)}${unit} (goal ${op} ${goal.target}${unit}) ${
    passes(goal) ? 'PASS' : 'MISS'
  }`
}

/** Prints a scenario's figures, goals and notes. */
export function printScenario(result: ScenarioResult): void {
  console.log(`\n== ${result.id}: ${result.title} [load average at end: ${machine().loadavg}]`)
  const width = Math.max(...result.figures.map(([label]) => label.length), 10)
  for (const [label, value] of result.figures) console.log(`  ${label.padEnd(width)}  ${value}`)
  for (const goal of result.goals) console.log(`  ${goalLine(goal)}`)
  for (const note of result.notes) console.log(`  note: ${note}`)
}

/** The machine the figures come from. */
export function machine(): Record<string, string> {
  let nproc = String(cpus().length)
  try {
    nproc = execSync('nproc', { encoding: 'utf8' }).trim()
  } catch {
    // cpus() is the fallback
  }
  return {
    cpus: `${nproc} × ${cpus()[0]?.model ?? 'unknown'}`,
    memory: `${fmt(totalmem() / 2 ** 30, 1)} GiB (${fmt(freemem() / 2 ** 30, 1)} GiB free)`,
    node: process.version,
    loadavg: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    uv_threadpool_size: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
    server: FROM_SRC
      ? 'src/ through tsx (BENCH_FROM_SRC=1)'
      : 'dist/, built from the sources at start',
    clk_tck: String(CLK_TCK),
    mode: QUICK ? 'quick (BENCH_QUICK=1: a smoke test, not results)' : 'full',
  }
}

/** Prints the machine and its current load, so a busy run is visible as such. */
export function printMachine(): void {
  const m = machine()
  console.log(
    `machine: ${m.cpus}; ${m.memory}; node ${m.node}; load average ${m.loadavg}; server from ${m.server}; ${m.mode} run`,
  )
}

/** Saves the result as bench/results/<id>.json (git-ignored). */
export function saveResult(result: ScenarioResult): void {
  const dir = resolve(REPO_ROOT, 'bench/results')
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    resolve(dir, `${result.id}.json`),
    `${JSON.stringify({ ...result, machine: machine(), at: new Date().toISOString() }, null, 2)}\n`,
  )
}

/** True when the module at `url` is the program being run (not imported by run-all). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && url === pathToFileURL(resolve(process.argv[1])).href
}

/** Runs one scenario as a program: machine line, the run, its figures, the saved JSON. */
export async function runAsProgram(run: () => Promise<ScenarioResult>): Promise<void> {
  printMachine()
  const result = await run()
  printScenario(result)
  saveResult(result)
}
