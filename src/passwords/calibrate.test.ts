import { describe, expect, it } from 'vitest'
import { isUsersError } from '../errors.js'
import { type Argon2Params, calibrateArgon2 } from './calibrate.js'

/** A machine where one hash costs exactly 1 ms per MiB per pass. */
const linear = async ({ memoryCost, timeCost }: Argon2Params) => (memoryCost / 1024) * timeCost

describe('calibrateArgon2', () => {
  it('measures real hashes and stays within a small memory cap', async () => {
    const result = await calibrateArgon2({ targetMs: 15, parallelism: 1, maxMemoryKiB: 2048 })
    expect(result.memoryCost).toBe(2048)
    expect(result.parallelism).toBe(1)
    expect(result.timeCost).toBeGreaterThanOrEqual(1)
    expect(result.measuredMs).toBeGreaterThan(0)
  })

  it('raises memory first, up to the largest size within the target', async () => {
    const result = await calibrateArgon2({
      targetMs: 100,
      parallelism: 1,
      maxMemoryKiB: 1_048_576,
      measure: linear,
    })
    expect(result.timeCost).toBe(1)
    expect(result.memoryCost).toBeLessThanOrEqual(100 * 1024)
    expect(result.memoryCost).toBeGreaterThanOrEqual(95 * 1024)
    expect(result.memoryCost % 1024).toBe(0)
    expect(result.measuredMs).toBeLessThanOrEqual(100)
  })

  it('raises the time cost once memory reaches the cap', async () => {
    const result = await calibrateArgon2({
      targetMs: 100,
      parallelism: 2,
      maxMemoryKiB: 32_768,
      measure: linear,
    })
    expect(result).toEqual({ memoryCost: 32_768, timeCost: 3, parallelism: 2, measuredMs: 96 })
  })

  it('steps the time cost back down when the linear estimate overshoots', async () => {
    // Passes cost more than linear here: t=4 would be 4·20·1.5 = 120 ms.
    const result = await calibrateArgon2({
      targetMs: 100,
      parallelism: 1,
      maxMemoryKiB: 20_480,
      measure: async ({ memoryCost, timeCost }) =>
        (memoryCost / 1024) * timeCost * (timeCost > 1 ? 1.5 : 1),
    })
    expect(result.timeCost).toBe(3)
    expect(result.measuredMs).toBe(90)
  })

  it('never goes below the OWASP floor of 19 MiB, even over the target', async () => {
    const result = await calibrateArgon2({ targetMs: 5, parallelism: 1, measure: linear })
    expect(result).toEqual({ memoryCost: 19_456, timeCost: 1, parallelism: 1, measuredMs: 19 })
  })

  it('defaults to parallelism 4 and a 256 MiB cap', async () => {
    const result = await calibrateArgon2({ targetMs: 5_000, measure: linear })
    expect(result.parallelism).toBe(4)
    expect(result.memoryCost).toBe(262_144)
    expect(result.timeCost).toBe(19)
  })

  it('never suggests more passes than password.argon2_time_cost accepts', async () => {
    const result = await calibrateArgon2({ targetMs: 10_000, measure: linear })
    expect(result.timeCost).toBe(20)
  })

  it('rejects nonsense options with VALIDATION_ERROR', async () => {
    for (const options of [
      { targetMs: 0 },
      { targetMs: 100, parallelism: 0 },
      { targetMs: 100, parallelism: 2, maxMemoryKiB: 8 },
      { targetMs: 100, maxMemoryKiB: 1_048_577 },
    ]) {
      const error = await calibrateArgon2({ ...options, measure: linear }).catch((e: unknown) => e)
      expect(isUsersError(error, 'VALIDATION_ERROR')).toBe(true)
    }
  })
})
