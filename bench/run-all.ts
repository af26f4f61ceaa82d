// `npm run bench`: every scenario in sequence, then one table of every goal. BENCH_QUICK=1 runs
// each for about 2 s (a smoke test: its figures are not results); BENCH_ONLY=a,b picks scenarios.
import { run as apiKey } from './api-key.js'
import { run as isolation } from './isolation.js'
import { run as jwks } from './jwks.js'
import {
  goalLine,
  passes,
  printMachine,
  printScenario,
  type ScenarioResult,
  saveResult,
} from './lib/report.js'
import { run as login } from './login.js'
import { run as memory } from './memory.js'
import { run as peer } from './peer-better-auth.js'
import { run as refresh } from './refresh.js'
import { run as scale } from './scale.js'

const scenarios: [string, () => Promise<ScenarioResult>][] = [
  ['login', login],
  ['refresh', refresh],
  ['api-key', apiKey],
  ['jwks', jwks],
  ['isolation', isolation],
  ['scale', scale],
  ['peer-better-auth', peer],
  ['memory', memory],
]

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim())
const started = performance.now()
printMachine()
const results: ScenarioResult[] = []
for (const [name, run] of scenarios) {
  if (only && !only.includes(name)) continue
  const result = await run()
  printScenario(result)
  saveResult(result)
  results.push(result)
}
console.log(`\n== summary (${((performance.now() - started) / 60_000).toFixed(1)} min)`)
printMachine()
for (const result of results)
  for (const goal of result.goals) console.log(`  [${result.id}] ${goalLine(goal)}`)
const goals = results.flatMap((r) => r.goals)
console.log(`  ${goals.filter(passes).length} of ${goals.length} goals met`)
