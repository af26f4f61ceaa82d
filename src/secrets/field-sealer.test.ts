import { describe, expect, it } from 'vitest'
import type { Store } from '../domain/store.js'
import { isUsersError } from '../errors.js'
import { systemClock } from '../lib/clock.js'
import { secureRandom } from '../lib/random.js'
import { createFieldSealer } from './field-sealer.js'

/** One database's instance secrets, in memory. */
function secretsTable(): Pick<Store, 'instanceSecret'> {
  const rows = new Map<string, string>()
  return {
    async instanceSecret(name, candidate) {
      if (!rows.has(name)) rows.set(name, candidate)
      return rows.get(name) as string
    },
  }
}

const sealerOf = (table: Pick<Store, 'instanceSecret'>, secret?: string) =>
  createFieldSealer({ secret, store: table, random: secureRandom, clock: systemClock })

const refusal = (work: () => unknown) => {
  try {
    work()
  } catch (error) {
    return error
  }
  throw new Error('expected a refusal')
}

describe('field sealer', () => {
  it('opens what it sealed, and a value sealed twice differs (fresh IV)', async () => {
    const sealer = await sealerOf(secretsTable())
    const a = sealer.seal('ha1-value', 'ctx:1')
    const b = sealer.seal('ha1-value', 'ctx:1')
    expect(a).not.toBe(b)
    expect(a).not.toContain('ha1-value')
    expect(sealer.open(a, 'ctx:1').toString()).toBe('ha1-value')
  })

  it('refuses a value under another context (copied onto another row)', async () => {
    const sealer = await sealerOf(secretsTable())
    const sealed = sealer.seal(Buffer.from([1, 2, 3]), 'sip-ha1:a')
    const error = refusal(() => sealer.open(sealed, 'sip-ha1:b'))
    expect(isUsersError(error, 'INTERNAL_ERROR')).toBe(true)
  })

  it('shares the generated database key between instances of one database', async () => {
    const table = secretsTable()
    const sealed = (await sealerOf(table)).seal('x', 'c')
    expect((await sealerOf(table)).open(sealed, 'c').toString()).toBe('x')
    const elsewhere = await sealerOf(secretsTable())
    expect(
      isUsersError(
        refusal(() => elsewhere.open(sealed, 'c')),
        'INTERNAL_ERROR',
      ),
    ).toBe(true)
  })

  it('seals with the configured secret, still opens older database-key values, and names a missing secret', async () => {
    const table = secretsTable()
    const before = (await sealerOf(table)).seal('old', 'c')
    const withSecret = await sealerOf(table, 'a-long-operator-secret')
    const after = withSecret.seal('new', 'c')
    expect(after.startsWith('fs1:s:')).toBe(true)
    expect(withSecret.open(before, 'c').toString()).toBe('old')
    expect(withSecret.open(after, 'c').toString()).toBe('new')
    const wrongSecret = await sealerOf(table, 'another-operator-secret')
    expect(
      isUsersError(
        refusal(() => wrongSecret.open(after, 'c')),
        'INTERNAL_ERROR',
      ),
    ).toBe(true)
    const noSecret = await sealerOf(table)
    const error = refusal(() => noSecret.open(after, 'c')) as Error
    expect(error.message).toContain('jwt.key_encryption_secret')
  })

  it('refuses a malformed value with INTERNAL_ERROR, not a crash', async () => {
    const sealer = await sealerOf(secretsTable())
    for (const bad of ['', 'fs1', 'fs1:d:a:b', 'fs2:d:a:b:c', 'fs1:d:AAAA:BBBB:CCCC']) {
      expect(
        isUsersError(
          refusal(() => sealer.open(bad, 'c')),
          'INTERNAL_ERROR',
        ),
      ).toBe(true)
    }
  })
})
