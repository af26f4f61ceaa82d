import { ARGON2_MAX_MEMORY_KIB, type Config } from '../config/schema.js'
import { parsePasslibScrypt } from './passlib-scrypt.js'

/** The configured Argon2 cost that every bound is derived from. */
export type HashCostPolicy = Pick<Config['password'], 'argon2_memory_cost' | 'argon2_time_cost'>

/**
 * The most a stored hash may cost to verify. Argon2 is counted in KiB × passes; scrypt in bytes
 * of memory and in bytes swept (two sweeps over 128·N·r bytes per lane: ROMix writes V, then
 * reads it back in random order), so both compare with the configured Argon2 work per byte.
 */
export interface HashCostBound {
  argon2MemoryKiB: number
  argon2WorkKiB: number
  bcryptCost: number
  scryptMemoryBytes: number
  scryptWorkBytes: number
}

/** What {@link checkHashCost} found: a supported hash within the bound, one over it, or neither. */
export type HashCostVerdict =
  | { verdict: 'within'; scheme: HashScheme }
  | { verdict: 'over'; scheme: HashScheme; reason: string }
  | { verdict: 'malformed' }

/** The families of stored hash that can be verified. */
export type HashScheme = 'argon2' | 'bcrypt' | 'scrypt'

// An imported hash may cost this many times a login at the configured parameters: room for a
// legacy system's stronger settings, while one wrong-password login cannot hold a hashing thread
// for much longer than a normal one.
const COST_FACTOR = 4
// bcrypt's cost does not convert to Argon2 work; 2^14 rounds is about a second in bcryptjs.
const MAX_BCRYPT_COST = 14
const KIB = 1024
// The floor is the spec's default cost, so lowering the configured cost never locks out users
// whose hashes were made at the defaults before their next login upgrades them.
const FLOOR_MEMORY_KIB = 65_536
const FLOOR_TIME_COST = 3

const ARGON2 = /^\$argon2(?:id|i)\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/

/** The bound for hashes verified under the given Argon2 settings (see {@link HashCostBound}). */
export function hashCostBound(policy: HashCostPolicy): HashCostBound {
  const baseMemoryKiB = Math.max(FLOOR_MEMORY_KIB, policy.argon2_memory_cost)
  const baseWorkKiB = Math.max(
    FLOOR_MEMORY_KIB * FLOOR_TIME_COST,
    policy.argon2_memory_cost * policy.argon2_time_cost,
  )
  const memoryKiB = Math.min(ARGON2_MAX_MEMORY_KIB, COST_FACTOR * baseMemoryKiB)
  const workKiB = COST_FACTOR * baseWorkKiB
  return {
    argon2MemoryKiB: memoryKiB,
    argon2WorkKiB: workKiB,
    bcryptCost: MAX_BCRYPT_COST,
    scryptMemoryBytes: memoryKiB * KIB,
    scryptWorkBytes: workKiB * KIB,
  }
}

/**
 * Parses the cost of a stored `$argon2id$`/`$argon2i$`, bcrypt or passlib `$scrypt$` hash and
 * says whether verifying it stays within `bound`; anything else is malformed. Pure: the hash is
 * data, so this decides before any work is done.
 */
export function checkHashCost(stored: string, bound: HashCostBound): HashCostVerdict {
  const argon2 = ARGON2.exec(stored)
  if (argon2) {
    const [memoryKiB, passes, lanes] = argon2.slice(1).map(Number) as [number, number, number]
    if (passes < 1 || lanes < 1 || memoryKiB < 8 * lanes) return { verdict: 'malformed' }
    if (memoryKiB > bound.argon2MemoryKiB) {
      return over('argon2', `argon2 memory ${memoryKiB} KiB exceeds ${bound.argon2MemoryKiB} KiB`)
    }
    if (memoryKiB * passes > bound.argon2WorkKiB) {
      return over(
        'argon2',
        `argon2 cost m·t = ${memoryKiB * passes} exceeds ${bound.argon2WorkKiB} (4 × the configured m·t, at least the defaults')`,
      )
    }
    return { verdict: 'within', scheme: 'argon2' }
  }
  const bcrypt = BCRYPT.exec(stored)
  if (bcrypt) {
    const cost = Number(bcrypt[1])
    if (cost > bound.bcryptCost) {
      return over('bcrypt', `bcrypt cost ${cost} exceeds ${bound.bcryptCost}`)
    }
    return { verdict: 'within', scheme: 'bcrypt' }
  }
  const scrypt = stored.startsWith('$scrypt$') ? parsePasslibScrypt(stored) : undefined
  if (scrypt) {
    const memoryBytes = 128 * 2 ** scrypt.logN * scrypt.blockSize
    if (memoryBytes > bound.scryptMemoryBytes) {
      return over(
        'scrypt',
        `scrypt memory 128·N·r = ${memoryBytes} bytes exceeds ${bound.scryptMemoryBytes}`,
      )
    }
    const workBytes = 2 * memoryBytes * scrypt.parallelism
    if (workBytes > bound.scryptWorkBytes) {
      return over(
        'scrypt',
        `scrypt cost 256·N·r·p = ${workBytes} bytes exceeds ${bound.scryptWorkBytes} (4 × the configured m·t, at least the defaults')`,
      )
    }
    return { verdict: 'within', scheme: 'scrypt' }
  }
  return { verdict: 'malformed' }
}

function over(scheme: HashScheme, reason: string): HashCostVerdict {
  return { verdict: 'over', scheme, reason }
}
