import { randomBytes, randomFillSync, randomInt, randomUUID } from 'node:crypto'

/** The source of randomness; injected so tests can make it predictable where that helps. */
export interface Random {
  bytes(length: number): Buffer
  uuid(): string
  /** A uniformly random string over `alphabet`, without modulo bias. */
  string(length: number, alphabet: string): string
}

// Small requests (token secrets, IVs: every login and refresh takes a few) are served from a
// pool filled by the CSPRNG 4 KiB at a time, as node:crypto does for randomUUID; each byte is
// handed out once and then zeroed in the pool.
const POOL_BYTES = 4096
const POOLED_MAX = 64
const pool = Buffer.alloc(POOL_BYTES)
let poolOffset = POOL_BYTES

function pooledBytes(length: number): Buffer {
  if (length > POOLED_MAX) return randomBytes(length)
  if (poolOffset + length > POOL_BYTES) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + length))
  pool.fill(0, poolOffset, poolOffset + length)
  poolOffset += length
  return out
}

/** Cryptographically secure randomness from node:crypto. */
export const secureRandom: Random = {
  bytes: pooledBytes,
  uuid: () => randomUUID(),
  string: (length, alphabet) => {
    let out = ''
    for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)]
    return out
  },
}

/** Letters and digits, for API keys and generated passwords. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
