import { describe, expect, it } from 'vitest'
import { createLookupCache } from './lookup-cache.js'

/** A lookup cache over a hand-moved stamp, and a loader that counts its reads. */
function setup(capacity?: number) {
  let stamp = 0
  const reads: string[] = []
  const lookup = createLookupCache<{ key: string; stamp: number }>(() => stamp, capacity)
  const load = (key: string, during?: () => void) => async () => {
    reads.push(key)
    during?.()
    return key.startsWith('missing') ? undefined : { key, stamp }
  }
  return {
    lookup,
    load,
    reads,
    change: () => {
      stamp++
    },
  }
}

describe('createLookupCache', () => {
  it('answers a repeated lookup from memory while the stamp stays put', async () => {
    const { lookup, load, reads } = setup()
    expect(await lookup('a', load('a'))).toEqual({ key: 'a', stamp: 0 })
    expect(await lookup('a', load('a'))).toEqual({ key: 'a', stamp: 0 })
    expect(reads).toEqual(['a'])
  })

  it('reads again after any change', async () => {
    const { lookup, load, reads, change } = setup()
    await lookup('a', load('a'))
    change()
    expect(await lookup('a', load('a'))).toEqual({ key: 'a', stamp: 1 })
    expect(reads).toEqual(['a', 'a'])
  })

  it('does not keep a row read while a change happened', async () => {
    const { lookup, load, reads, change } = setup()
    await lookup('a', load('a', change))
    await lookup('a', load('a'))
    await lookup('a', load('a'))
    expect(reads).toEqual(['a', 'a'])
  })

  it('does not keep misses', async () => {
    const { lookup, load, reads } = setup()
    expect(await lookup('missing', load('missing'))).toBeUndefined()
    expect(await lookup('missing', load('missing'))).toBeUndefined()
    expect(reads).toEqual(['missing', 'missing'])
  })

  it('keeps at most `capacity` rows, dropping the oldest', async () => {
    const { lookup, load, reads } = setup(2)
    for (const key of ['a', 'b', 'c', 'c', 'b', 'a']) await lookup(key, load(key))
    expect(reads).toEqual(['a', 'b', 'c', 'a'])
  })

  it('returns frozen rows', async () => {
    const { lookup, load } = setup()
    const row = await lookup('a', load('a'))
    expect(Object.isFrozen(row)).toBe(true)
  })
})
