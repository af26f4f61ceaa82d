import { defineConfig } from 'vitest/config'

const TIMING = 'test/hardening/timing.test.ts'

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two cores: more workers only make Argon2 and SQLite fight each other.
    maxWorkers: 2,
    setupFiles: ['test/setup/fail-on-console.ts'],
    globalSetup: ['test/setup/build-console.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [TIMING],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Timing is measured alone, after everything else: another test file's CPU load on the
        // two cores would drown a 5 % difference (the hash threads yield to other work by design).
        extends: true,
        test: { name: 'timing', include: [TIMING], sequence: { groupOrder: 1 } },
      },
    ],
  },
})
