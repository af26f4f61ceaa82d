import { describe, expect, it } from 'vitest'
import { secureRandom } from './random.js'

describe('secureRandom.bytes', () => {
  it('answers the length asked for, pooled or not', () => {
    for (const n of [0, 1, 12, 32, 64, 65, 5000]) expect(secureRandom.bytes(n).length).toBe(n)
  })

  it('never hands out the same bytes twice, across pool refills', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 1000; i++) seen.add(secureRandom.bytes(32).toString('hex'))
    expect(seen.size).toBe(1000)
  })

  it('returns buffers of their own: changing one changes no later answer', () => {
    const a = secureRandom.bytes(16)
    a.fill(0)
    const b = secureRandom.bytes(16)
    expect(b.equals(Buffer.alloc(16))).toBe(false)
    const before = Buffer.from(b)
    a.fill(0xff)
    expect(b.equals(before)).toBe(true)
  })

  it('looks uniform: every byte value appears in 64 KiB of 32-byte draws', () => {
    const counts = new Array<number>(256).fill(0)
    for (let i = 0; i < 2048; i++)
      for (const byte of secureRandom.bytes(32)) counts[byte] = (counts[byte] ?? 0) + 1
    // 65,536 bytes: 256 expected per value; a missing value or a gross skew means a broken pool.
    expect(Math.min(...counts)).toBeGreaterThan(150)
    expect(Math.max(...counts)).toBeLessThan(380)
  })
})
