// `npm run fuzz`: at least 10,000 generated requests across every route of openapi.yaml against
// a real core on a SQLite file (FUZZ_DATABASE=postgres: a throwaway PostgreSQL database, see
// test/helpers/databases.ts); prints per-route counts; exits 1 on any failed property.
// FUZZ_RUNS sets the count, FUZZ_SEED replays a run.
import { createFuzzWorld, type FuzzDatabase } from '../helpers/fuzz/fuzz-world.js'
import {
  assertEveryRouteCovered,
  assertWorldHealthy,
  formatStats,
  runFuzz,
} from '../helpers/fuzz/run-fuzz.js'

const numRuns = Number(process.env.FUZZ_RUNS ?? 10_000)
const seed = process.env.FUZZ_SEED === undefined ? Date.now() : Number(process.env.FUZZ_SEED)
const database = (process.env.FUZZ_DATABASE ?? 'sqlite') as FuzzDatabase
if (database !== 'sqlite' && database !== 'postgres') {
  process.stderr.write(`FUZZ_DATABASE must be sqlite or postgres, not ${String(database)}\n`)
  process.exit(2)
}

async function main(): Promise<void> {
  process.stdout.write(
    `fuzz: ${numRuns} requests on ${database}, seed ${seed} (FUZZ_SEED=${seed} to replay)\n`,
  )
  const started = performance.now()
  const world = await createFuzzWorld({}, database)
  try {
    const stats = await runFuzz(world, {
      numRuns,
      seed,
      progressEvery: 1000,
      onProgress: (s) => process.stdout.write(`  ${s.requests} requests…\n`),
    })
    process.stdout.write(`${formatStats(stats)}\n`)
    assertEveryRouteCovered(stats)
    if (stats.requests < numRuns) throw new Error(`only ${stats.requests} requests sent`)
    await assertWorldHealthy(world)
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    process.stdout.write(
      `ok: ${stats.requests} requests on ${database} in ${seconds} s, ${stats.fiveXx} × 5xx, database intact, audit chain verifies\n`,
    )
  } finally {
    await world.close()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `fuzz failed (seed ${seed}):\n${err instanceof Error ? err.message : String(err)}\n`,
  )
  process.exit(1)
})
