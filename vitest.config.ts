import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two cores: more workers only make Argon2 and SQLite fight each other.
    maxWorkers: 2,
    setupFiles: ['test/setup/fail-on-console.ts'],
  },
})
