import { RateLimiterRes } from 'rate-limiter-flexible'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BoundedMemoryLimiter } from './memory-limiter.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('BoundedMemoryLimiter', () => {
  it('keeps rate-limiter-flexible semantics: consume, penalty, block, get, delete, expiry', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const limiter = new BoundedMemoryLimiter({ keyPrefix: 't', points: 2, duration: 60 })
    expect((await limiter.consume('a')).remainingPoints).toBe(1)
    expect((await limiter.consume('a')).remainingPoints).toBe(0)
    const refused = await limiter.consume('a').catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(RateLimiterRes)
    expect((refused as RateLimiterRes).msBeforeNext).toBe(60_000)
    expect((await limiter.penalty('b', 1)).consumedPoints).toBe(1)
    await limiter.block('b', 30)
    expect((await limiter.get('b'))?.consumedPoints).toBe(3)
    expect((await limiter.get('b'))?.msBeforeNext).toBe(30_000)
    vi.advanceTimersByTime(30_000)
    expect(await limiter.get('b')).toBe(null)
    vi.advanceTimersByTime(30_000)
    expect((await limiter.consume('a')).remainingPoints).toBe(1)
    expect(await limiter.delete('a')).toBe(true)
    expect(await limiter.get('a')).toBe(null)
    expect(limiter.keyCount).toBe(0)
  })

  it('holds at most maxKeys keys, evicting the least recently used', async () => {
    const limiter = new BoundedMemoryLimiter({ keyPrefix: 't', points: 5, duration: 60 }, 3)
    for (const key of ['a', 'b', 'c']) await limiter.penalty(key, 1)
    await limiter.get('a')
    for (let i = 0; i < 1000; i++) await limiter.penalty(`flood-${i}`, 1)
    expect(limiter.keyCount).toBe(3)
    await limiter.penalty('d', 1)
    await limiter.penalty('a', 1)
    await limiter.get('d')
    await limiter.penalty('e', 1)
    expect((await limiter.get('d'))?.consumedPoints).toBe(1)
    expect((await limiter.get('a'))?.consumedPoints).toBe(1)
    expect(limiter.keyCount).toBe(3)
  })
})
