// The in-suite slice of the HTTP fuzz (the full ≥10,000-request run is `npm run fuzz`):
// requests derived from openapi.yaml plus hostile values, against a real core on a SQLite file.
import { describe, expect, test } from 'vitest'
import { createFuzzWorld } from '../helpers/fuzz/fuzz-world.js'
import {
  assertEveryRouteCovered,
  assertWorldHealthy,
  formatStats,
  runFuzz,
} from '../helpers/fuzz/run-fuzz.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_301)

describe('hostile-input fuzz over every route of openapi.yaml', () => {
  test('1000 requests: no 5xx, every error in the envelope, documented answers match the document; healthy after', async () => {
    const world = await createFuzzWorld()
    try {
      const stats = await runFuzz(world, { numRuns: 1000, seed: SEED })
      expect(stats.requests, formatStats(stats)).toBe(1000)
      expect(stats.fiveXx).toBe(0)
      assertEveryRouteCovered(stats)
      // The generator reaches past the front door: admin successes and client errors both occur.
      const statuses = [...stats.statuses.values()].flatMap((m) => [...m.keys()])
      for (const status of [200, 201, 204, 400, 401, 403, 404, 413, 415]) {
        expect(statuses, `no ${status} in\n${formatStats(stats)}`).toContain(status)
      }
      await assertWorldHealthy(world)
    } finally {
      await world.close()
    }
  }, 60_000)

  test('with low rate limits and lockout on: 429s are clean envelopes with Retry-After too', async () => {
    const world = await createFuzzWorld({
      rate_limit: {
        requests_per_minute: 60,
        login_requests_per_minute: 10,
        max_failed_logins: 3,
        lockout_seconds: 60,
      },
    })
    try {
      const stats = await runFuzz(world, { numRuns: 250, seed: SEED + 1 })
      expect(stats.fiveXx).toBe(0)
      const limited = [...stats.statuses.values()].reduce((n, m) => n + (m.get(429) ?? 0), 0)
      expect(limited, formatStats(stats)).toBeGreaterThan(0)
      await assertWorldHealthy(world)
    } finally {
      await world.close()
    }
  }, 60_000)
})
