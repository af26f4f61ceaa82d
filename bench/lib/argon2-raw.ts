import { type Algorithm, hash, verify } from '@node-rs/argon2'
import { BENCH_PASSWORD } from './users-core.js'

const ARGON2ID = 2 as Algorithm

/** The spec's default Argon2id parameters (SPEC §2): 64 MiB, t=3, p=4. */
export const DEFAULT_ARGON2 = { memoryCost: 65_536, timeCost: 3, parallelism: 4 } as const

/** A verify of the bench password against a hash at `params`, as the server does one. */
export async function argon2Verifier(
  params: { memoryCost: number; timeCost: number; parallelism: number } = DEFAULT_ARGON2,
): Promise<() => Promise<boolean>> {
  const stored = await hash(BENCH_PASSWORD, { algorithm: ARGON2ID, ...params })
  return () => verify(stored, BENCH_PASSWORD)
}
