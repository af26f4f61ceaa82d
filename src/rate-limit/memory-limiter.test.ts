import { RateLimiterRes } from 'rate-limiter-flexible'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { rateLimitKey } from '../http/middleware/rate-limit.js'
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

describe('rateLimitKey', () => {
  it('is bounded whatever address the client claims (an IPv6 zone id has no length limit)', () => {
    const long = `fe80::1%${'a'.repeat(10_000)}`
    expect(rateLimitKey(undefined, long).length).toBeLessThanOrEqual(70)
    expect(rateLimitKey(undefined, long)).not.toBe(rateLimitKey(undefined, `${long}b`))
    expect(rateLimitKey(undefined, '203.0.113.5')).toBe('ip:203.0.113.5')
  })
})
