import { scrypt, timingSafeEqual } from 'node:crypto'

/** The parts of a passlib `$scrypt$ln=…,r=…,p=…$salt$checksum` hash. */
export interface PasslibScryptHash {
  /** log2 of the CPU/memory cost N. */
  logN: number
  blockSize: number
  parallelism: number
  salt: Buffer
  checksum: Buffer
}

// Imported hashes are data, not code: refuse parameters that would take the process down.
const MAX_MEMORY_BYTES = 1024 * 1024 * 1024

const PATTERN =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,4}),p=(\d{1,4})\$([A-Za-z0-9+/.]*)\$([A-Za-z0-9+/.]+)$/

/**
 * Parses a passlib scrypt hash, or returns undefined when it is malformed. passlib writes salt
 * and checksum in unpadded standard base64; its "adapted" alphabet ('.' for '+') is accepted too.
 */
export function parsePasslibScrypt(stored: string): PasslibScryptHash | undefined {
  const m = PATTERN.exec(stored)
  if (!m) return undefined
  const [, ln, r, p, salt, checksum] = m
  const logN = Number(ln)
  const blockSize = Number(r)
  const parallelism = Number(p)
  if (logN < 1 || logN > 31 || blockSize < 1 || parallelism < 1) return undefined
  const saltBytes = decodeUnpadded(salt ?? '')
  const checksumBytes = decodeUnpadded(checksum ?? '')
  if (!saltBytes || !checksumBytes || checksumBytes.length === 0) return undefined
  return { logN, blockSize, parallelism, salt: saltBytes, checksum: checksumBytes }
}

/** Derives scrypt key bytes; undefined when the parameters are refused. */
export type ScryptDerive = (
  password: string,
  salt: Buffer,
  keyLength: number,
  cost: { N: number; r: number; p: number; maxmem: number },
) => Promise<Uint8Array | undefined>

/** node:crypto's asynchronous scrypt (on libuv's thread pool). */
export const nodeScrypt: ScryptDerive = (password, salt, keyLength, cost) =>
  new Promise((resolve) => {
    scrypt(Buffer.from(password, 'utf8'), salt, keyLength, cost, (err, key) =>
      resolve(err ? undefined : key),
    )
  })

/**
 * Verifies `password` against a passlib scrypt hash with `derive` (off the event loop) and a
 * constant-time comparison. Malformed or oversized hashes give false.
 */
export async function verifyPasslibScrypt(
  stored: string,
  password: string,
  derive: ScryptDerive = nodeScrypt,
): Promise<boolean> {
  const parsed = parsePasslibScrypt(stored)
  if (!parsed) return false
  const { logN, blockSize: r, parallelism: p, salt, checksum } = parsed
  const N = 2 ** logN
  // scrypt needs 128·N·r bytes for V plus 128·r·p for B; add slack for OpenSSL's bookkeeping.
  const needed = 128 * N * r + 128 * r * p
  if (needed > MAX_MEMORY_BYTES) return false
  const derived = await derive(password, salt, checksum.length, {
    N,
    r,
    p,
    maxmem: needed + 1024 * 1024,
  })
  return (
    derived !== undefined &&
    derived.length === checksum.length &&
    timingSafeEqual(derived, checksum)
  )
}

function decodeUnpadded(text: string): Buffer | undefined {
  // One leftover character cannot encode a byte: the string was truncated or corrupted.
  if (text.length % 4 === 1) return undefined
  return Buffer.from(text.replace(/\./g, '+'), 'base64')
}
