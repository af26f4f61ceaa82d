import { randomBytes } from 'node:crypto'
import type { Config } from '../config/schema.js'
import { isUsersError } from '../errors.js'
import { checkHashCost, hashCostBound } from './hash-cost.js'
import {
  createHashPool,
  type HashJob,
  type HashJobTiming,
  type HashPoolStats,
  overloaded,
} from './hash-pool.js'
import { type ScryptDerive, verifyPasslibScrypt } from './passlib-scrypt.js'

export { overloaded }

/** The Argon2 and pool settings the hasher reads from `config.password`. */
export type HashPolicy = Pick<
  Config['password'],
  | 'argon2_memory_cost'
  | 'argon2_time_cost'
  | 'argon2_parallelism'
  | 'max_concurrent_hashes'
  | 'max_queued_hashes'
>

/** Options of {@link createPasswordHasher}. */
export interface PasswordHasherOptions {
  policy: HashPolicy
  /** Called once per hash or verify job with its queue wait and run time (for metrics). */
  onHash?: (event: HashJobTiming) => void
}

/**
 * Hashes new passwords with Argon2id and verifies stored hashes of every imported scheme. Every
 * hash and verify is one job of one bounded pool; when it is full, calls reject with OVERLOADED.
 */
export interface PasswordHasher {
  /** An Argon2id PHC string of `password` at the configured parameters. */
  hash(password: string): Promise<string>
  /**
   * True when `password` matches `stored` (`$argon2id$`, `$argon2i$`, bcrypt `$2a$/$2b$/$2y$`,
   * passlib `$scrypt$`). An unknown or malformed hash gives false; so does one whose cost is over
   * the bound of `hashCostBound`, after a dummy verify instead of its own. Only OVERLOADED is thrown.
   */
  verify(stored: string, password: string): Promise<boolean>
  /** True when `stored` should be replaced by a fresh hash: not Argon2id, or other parameters. */
  needsRehash(stored: string): boolean
  /** Does the work of one verify at the configured parameters, for users that do not exist. */
  verifyDummy(password: string): Promise<void>
  stats(): HashPoolStats
  /**
   * Throws OVERLOADED when a hash would be refused now: callers check this before any other work
   * for a request that will need a hash, so shedding load under a flood costs almost nothing.
   */
  assertCapacity(): void
  /** Stops the hashing threads. */
  close(): Promise<void>
}

// @node-rs/argon2's Algorithm enum: 2 is Argon2id.
const ARGON2ID = 2

const ARGON2ID_PARAMS = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$/

/** Creates a {@link PasswordHasher} for the given `config.password` settings. */
export function createPasswordHasher(options: PasswordHasherOptions): PasswordHasher {
  const { policy } = options
  const argon2Options = {
    algorithm: ARGON2ID,
    memoryCost: policy.argon2_memory_cost,
    timeCost: policy.argon2_time_cost,
    parallelism: policy.argon2_parallelism,
  }
  // Every hash runs on low-priority threads, never on the event loop or libuv's pool.
  const pool = createHashPool({
    maxConcurrent: policy.max_concurrent_hashes,
    maxQueued: policy.max_queued_hashes,
    ...(options.onHash ? { onJob: options.onHash } : {}),
  })
  const costBound = hashCostBound(policy)
  let dummyHash: Promise<string> | undefined

  /** Runs a verifying job; any failure but OVERLOADED is a hash that does not verify. */
  const attempt = <J extends HashJob, F>(job: J, failed: F) =>
    pool.run(job).catch((error: unknown) => {
      if (isUsersError(error, 'OVERLOADED')) throw error
      return failed
    })
  const argon2Verify = (stored: string, password: string) =>
    attempt({ op: 'argon2.verify', stored, password }, false)
  const scrypt: ScryptDerive = (password, salt, keyLength, cost) =>
    attempt({ op: 'scrypt', password, salt, keyLength, cost }, undefined)
  const hash = (password: string) =>
    pool.run({ op: 'argon2.hash', password, options: argon2Options })

  const verifyDummy = async (password: string): Promise<void> => {
    // Computed once, at the configured parameters, so an unknown user costs one real verify.
    dummyHash ??= hash(randomBytes(32).toString('base64url'))
    let stored: string
    try {
      stored = await dummyHash
    } catch (error) {
      dummyHash = undefined
      throw error
    }
    await argon2Verify(stored, password)
  }

  const verify = async (stored: string, password: string): Promise<boolean> => {
    // Recognising the scheme first means a garbage hash costs nothing and never fills the pool.
    const cost = checkHashCost(stored, costBound)
    if (cost.verdict === 'malformed') return false
    // Never computed: it answers like a wrong password, after the work of one, so the refusal
    // does not stand out from an ordinary failed login.
    if (cost.verdict === 'over') return verifyDummy(password).then(() => false)
    switch (cost.scheme) {
      case 'argon2':
        return argon2Verify(stored, password)
      case 'bcrypt':
        return attempt({ op: 'bcrypt.verify', stored, password }, false)
      case 'scrypt':
        // Parsing and the constant-time comparison are on this thread, the derivation is the job.
        return verifyPasslibScrypt(stored, password, scrypt)
    }
  }

  return {
    hash,
    verify,
    needsRehash(stored) {
      const m = ARGON2ID_PARAMS.exec(stored)
      if (!m) return true
      const [, version, memory, time, lanes] = m
      return (
        Number(version) !== 19 ||
        Number(memory) !== policy.argon2_memory_cost ||
        Number(time) !== policy.argon2_time_cost ||
        Number(lanes) !== policy.argon2_parallelism
      )
    },
    verifyDummy,
    stats: () => pool.stats(),
    assertCapacity() {
      if (pool.isFull()) throw overloaded()
    },
    close: () => pool.close(),
  }
}
