import type { ConfigInput } from '../../src/config/schema.js'
import { type InitOptions, init } from '../../src/core.js'
import { createManualClock, type ManualClock } from '../../src/lib/clock.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'

/** Argon2 parameters cheap enough for tests (the real defaults are exercised in benchmarks). */
export const CHEAP_ARGON2 = {
  argon2_memory_cost: 1024,
  argon2_time_cost: 1,
  argon2_parallelism: 1,
} as const

/** A password that satisfies the default policy. */
export const GOOD_PASSWORD = 'Correct-Horse-42'

/** Merges test defaults (in-memory SQLite, cheap hashing, silent logs) under `overrides`. */
export function testConfig(overrides: ConfigInput = {}): ConfigInput {
  return {
    database_url: 'sqlite::memory:',
    log_level: 'silent',
    ...overrides,
    password: { ...CHEAP_ARGON2, ...(overrides.password ?? {}) },
    jwt: { algorithm: 'ES256', ...(overrides.jwt ?? {}) },
  }
}

/** A core on real SQLite with a manual clock, ready for tests. */
export async function createTestCore(
  overrides: ConfigInput = {},
  options: InitOptions & { clock?: ManualClock } = {},
): Promise<{ core: UsersCore; clock: ManualClock }> {
  const clock = options.clock ?? createManualClock(new Date('2026-03-01T12:00:00Z'))
  const core = await init(testConfig(overrides), {
    logger: createLogger('silent'),
    ...options,
    clock,
  })
  return { core, clock }
}
