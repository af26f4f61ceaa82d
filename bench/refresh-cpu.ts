// CPU per refresh grant through `core.refreshToken()` in this process (no HTTP), beside the CPU
// per raw signature of the same algorithm over the same claims shape, on a SQLite file. It
// counts CPU (user + system, every thread of the process), not wall time, so a shared machine
// moves it little. Run: `npx tsx bench/refresh-cpu.ts [--alg RS256|ES256|EdDSA] [--grants M]
// [--in-flight K] [--users N] [--keyed] [--grants-only]`; add `node --cpu-prof --import tsx` to see where it goes.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { init } from '../src/core.js'
import type { SigningAlgorithm } from '../src/domain/records.js'
import { buildAccessTokenClaims } from '../src/tokens/access-token.js'
import { signCompactJws } from '../src/tokens/jws.js'
import { generateSigningKey } from '../src/tokens/signing-key.js'

const PASSWORD = 'Bench-Passw0rd-2024'
const { values } = parseArgs({
  options: {
    alg: { type: 'string', multiple: true },
    grants: { type: 'string', default: '3000' },
    'in-flight': { type: 'string', default: '16' },
    users: { type: 'string', default: '32' },
    keyed: { type: 'boolean', default: false },
    // Profiling: only the concurrent grants, without the raw signatures and the sequential run.
    'grants-only': { type: 'boolean', default: false },
  },
})
const algorithms = (values.alg ?? ['RS256', 'ES256', 'EdDSA']) as SigningAlgorithm[]
const grants = Number(values.grants)
const inFlight = Number(values['in-flight'])
const users = Number(values.users)

/** Microseconds of CPU per call of `op`, `count` calls with `parallel` in flight. */
async function cpuPerOp(op: () => Promise<unknown>, count: number, parallel: number) {
  let left = count
  const worker = async () => {
    while (left > 0) {
      left--
      await op()
    }
  }
  const before = process.cpuUsage()
  await Promise.all(Array.from({ length: parallel }, worker))
  const used = process.cpuUsage(before)
  return (used.user + used.system) / count
}

/** Raw signing: the access token's claims shape, the service's signing module, a fresh key. */
async function rawSigner(algorithm: SigningAlgorithm) {
  const key = await generateSigningKey(algorithm)
  const user = { id: crypto.randomUUID(), username: 'u0000001', email: null, roles: ['user'] }
  return () =>
    signCompactJws(
      buildAccessTokenClaims({
        issuer: 'users-core',
        audience: ['users-core'],
        user,
        roles: user.roles,
        scope: 'profile',
        sessionId: crypto.randomUUID(),
        apiKeyId: undefined,
        permissions: undefined,
        jti: crypto.randomUUID(),
        now: new Date(),
        ttlSeconds: 900,
      }),
      { kid: key.kid, algorithm, privateKey: key.privateKey },
    )
}

async function refreshCore(algorithm: SigningAlgorithm) {
  const dir = mkdtempSync(join(tmpdir(), 'users-core-refresh-cpu-'))
  const core = await init({
    database_url: `sqlite://${join(dir, 'users.db')}`,
    log_level: 'silent',
    rate_limit: { enabled: false },
    jwt: {
      algorithm,
      ...(values.keyed ? { key_encryption_secret: 'bench-key-encryption-secret-0123456789' } : {}),
    },
    password: { argon2_memory_cost: 1024, argon2_time_cost: 1, argon2_parallelism: 1 },
  })
  const tokens: string[] = []
  for (let i = 0; i < users; i++) {
    const username = `u${String(i + 1).padStart(7, '0')}`
    await core.createUser({ username, password: PASSWORD })
    tokens.push((await core.authenticatePassword(username, PASSWORD)).refreshToken)
  }
  // Each grant presents the oldest current token and puts back the one it got.
  const grant = async () => {
    const token = tokens.shift() as string
    tokens.push((await core.refreshToken(token)).refreshToken)
  }
  return {
    grant,
    close: async () => {
      await core.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const fmt = (n: number) => n.toFixed(0).padStart(6)
const ratio = (n: number) => n.toFixed(2)
console.log(
  `grants ${grants}, ${inFlight} in flight, ${users} sessions${values.keyed ? ', keyed audit chain' : ''}`,
)
console.log('alg     sign µs  seq µs  ratio  | sign∥ µs  conc µs  ratio')
for (const algorithm of algorithms) {
  const sign = await rawSigner(algorithm)
  const core = await refreshCore(algorithm)
  try {
    if (values['grants-only']) {
      await cpuPerOp(core.grant, Math.min(500, grants), inFlight)
      const before = process.cpuUsage()
      const total = await cpuPerOp(core.grant, grants, inFlight)
      const system = process.cpuUsage(before).system / grants
      console.log(`${algorithm.padEnd(6)} conc µs ${fmt(total)} (system ${fmt(system)})`)
      continue
    }
    await cpuPerOp(sign, Math.min(500, grants), inFlight)
    await cpuPerOp(core.grant, Math.min(500, grants), inFlight)
    const signSeq = await cpuPerOp(sign, grants, 1)
    const grantSeq = await cpuPerOp(core.grant, grants, 1)
    const signConc = await cpuPerOp(sign, grants, inFlight)
    const grantConc = await cpuPerOp(core.grant, grants, inFlight)
    console.log(
      `${algorithm.padEnd(6)} ${fmt(signSeq)}  ${fmt(grantSeq)}  ${ratio(signSeq / grantSeq)}   | ${fmt(signConc)}   ${fmt(grantConc)}   ${ratio(signConc / grantConc)}`,
    )
  } finally {
    await core.close()
  }
}
