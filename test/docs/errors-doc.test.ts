import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_STATUS } from '../../src/errors.js'

// fastify's habit: the error-code registry and its documentation cannot drift apart.
describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  const rows = [...doc.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)].map((m) => [m[2], Number(m[1])])

  it('lists exactly the codes of src/errors.ts with their statuses', () => {
    expect(Object.fromEntries(rows)).toEqual(ERROR_STATUS)
    expect(rows).toHaveLength(Object.keys(ERROR_STATUS).length)
  })
})
