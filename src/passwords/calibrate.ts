import { type Algorithm, hash as argon2Hash } from '@node-rs/argon2'
import { ARGON2_MAX_MEMORY_KIB, ARGON2_MAX_TIME_COST } from '../config/schema.js'
import { UsersError } from '../errors.js'

/** Argon2id cost parameters as `config.password` names them, without the prefix. */
export interface Argon2Params {
  /** KiB. */
  memoryCost: number
  timeCost: number
  parallelism: number
}

/** Options of {@link calibrateArgon2}. */
export interface CalibrateOptions {
  /** Wanted duration of one hash on this machine, in milliseconds. */
  targetMs: number
  /** Lanes; default 4 (the spec's default). */
  parallelism?: number
  /** Memory ceiling per hash in KiB, at most 1 GiB; default 262,144 (256 MiB). */
  maxMemoryKiB?: number
  /** Times one hash in milliseconds; replaced in tests to exercise the search deterministically. */
  measure?: (params: Argon2Params) => Promise<number>
}

/** The suggested parameters and how long one hash with them took here. */
export interface CalibrationResult extends Argon2Params {
  measuredMs: number
}

// OWASP Password Storage Cheat Sheet: Argon2id with at least 19 MiB of memory.
const OWASP_MIN_MEMORY_KIB = 19_456
const DEFAULT_MAX_MEMORY_KIB = 262_144
const MEMORY_STEP_KIB = 1024
const MAX_BISECT_STEPS = 5
const ARGON2ID = 2 as Algorithm

/** Times one real Argon2id hash with the async API, so the event loop stays free. */
async function measureHash(params: Argon2Params): Promise<number> {
  const started = performance.now()
  await argon2Hash('calibration password', { ...params, algorithm: ARGON2ID })
  return performance.now() - started
}

async function median(measure: () => Promise<number>, samples: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < samples; i++) times.push(await measure())
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] ?? 0
}

/**
 * Measures Argon2id on this machine and suggests parameters whose hash takes at most about
 * `targetMs` (for `users-core hash calibrate`). Memory is raised first, from the OWASP floor of
 * 19 MiB up to `maxMemoryKiB`, because memory is what makes GPU cracking expensive; only then is
 * the time cost raised. When even the floor exceeds the target, the floor is returned.
 */
export async function calibrateArgon2(options: CalibrateOptions): Promise<CalibrationResult> {
  const parallelism = options.parallelism ?? 4
  const maxMemory = options.maxMemoryKiB ?? DEFAULT_MAX_MEMORY_KIB
  const { targetMs } = options
  if (!(targetMs > 0) || !Number.isInteger(parallelism) || parallelism < 1 || parallelism > 16) {
    throw new UsersError('VALIDATION_ERROR', {
      message: 'targetMs must be positive and parallelism an integer from 1 to 16',
    })
  }
  // Argon2 needs at least 8 KiB per lane; the config accepts at most 1 GiB.
  if (!(maxMemory >= 8 * parallelism && maxMemory <= ARGON2_MAX_MEMORY_KIB)) {
    throw new UsersError('VALIDATION_ERROR', {
      message: `maxMemoryKiB must be from ${8 * parallelism} (8 KiB per lane) to ${ARGON2_MAX_MEMORY_KIB}`,
    })
  }
  const measure = options.measure ?? measureHash
  const time = (memoryCost: number, timeCost: number) =>
    measure({ memoryCost, timeCost, parallelism })

  await time(Math.min(OWASP_MIN_MEMORY_KIB, maxMemory), 1) // warm-up: first call loads the addon
  let memory = Math.max(Math.min(OWASP_MIN_MEMORY_KIB, maxMemory), 8 * parallelism)
  let ms = await time(memory, 1)

  // Double the memory while one pass stays within the target.
  let tooMuch: number | undefined
  while (ms <= targetMs && memory < maxMemory) {
    const next = Math.min(memory * 2, maxMemory)
    const nextMs = await time(next, 1)
    if (nextMs > targetMs) {
      tooMuch = next
      break
    }
    memory = next
    ms = nextMs
  }

  if (tooMuch !== undefined) {
    // Bisect between the last fitting and the first overshooting memory, in whole MiB.
    let low = memory
    let high = tooMuch
    for (let i = 0; i < MAX_BISECT_STEPS && high - low > MEMORY_STEP_KIB; i++) {
      const mid = Math.floor((low + high) / 2 / MEMORY_STEP_KIB) * MEMORY_STEP_KIB
      if (mid <= low) break
      const midMs = await time(mid, 1)
      if (midMs <= targetMs) {
        low = mid
        ms = midMs
      } else high = mid
    }
    memory = low
  }

  let timeCost = 1
  if (memory >= maxMemory && ms < targetMs) {
    // Memory is capped: spend the rest of the budget on passes, which scale about linearly.
    timeCost = Math.min(
      ARGON2_MAX_TIME_COST,
      Math.max(1, Math.floor(targetMs / Math.max(ms, 0.001))),
    )
    ms = await time(memory, timeCost)
    while (ms > targetMs && timeCost > 1) ms = await time(memory, --timeCost)
  }

  const measuredMs = await median(() => time(memory, timeCost), 3)
  return { memoryCost: memory, timeCost, parallelism, measuredMs }
}
