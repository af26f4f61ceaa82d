import { randomBytes, randomInt, randomUUID } from 'node:crypto'

/** The source of randomness; injected so tests can make it predictable where that helps. */
export interface Random {
  bytes(length: number): Buffer
  uuid(): string
  /** A uniformly random string over `alphabet`, without modulo bias. */
  string(length: number, alphabet: string): string
}

/** Cryptographically secure randomness from node:crypto. */
export const secureRandom: Random = {
  bytes: (length) => randomBytes(length),
  uuid: () => randomUUID(),
  string: (length, alphabet) => {
    let out = ''
    for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)]
    return out
  },
}

/** Letters and digits, for API keys and generated passwords. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
