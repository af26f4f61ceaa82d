// better-auth, installed outside the repository (PEER_DIR, default /tmp/peer), in the same run on
// the same machine: sign-in efficiency (sign-ins/s ÷ own raw hash verifies/s) for each side, and
// server CPU per request of its get-session ÷ that of our GET /users/me (bearer and API key).
import { describe, loadGet } from './api-key.js'
import { argon2Verifier } from './lib/argon2-raw.js'
import { type JsonChild, startJsonChild } from './lib/child.js'
import { cpuTime } from './lib/cpu.js'
import { cpuPerRequest, type LoadResult, okPerSecond, runLoad } from './lib/load.js'
import { importPeer, PEER_DIR, PEER_PASSWORD, PEER_PREFIX, peerMissing } from './lib/peer.js'
import { seconds } from './lib/quick.js'
import { measureConcurrent, type RawResult } from './lib/raw.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import {
  benchConfig,
  login,
  loginRequests,
  seededUsername,
  startUsersCore,
} from './lib/users-core.js'

const USERS = 200
const SIGN_IN_CONNECTIONS = 8
const SIGN_IN_SECONDS = seconds(10)
const GET_SECONDS = seconds(5)
const RAW_SECONDS = seconds(4)

interface PeerInfo {
  url: string
  pid: number
  version: string
  journal: string
}

/** Raw hash throughput at 2 and 4 in flight; the better one is the side's ceiling. */
async function rawCeiling(verify: () => Promise<unknown>) {
  const two = await measureConcurrent(verify, 2, RAW_SECONDS)
  const four = await measureConcurrent(verify, 4, RAW_SECONDS)
  return { two, four, best: Math.max(two.opsPerSecond, four.opsPerSecond) }
}

/**
 * Runs `during` between two raw measurements and takes their mean, so slow drift of a shared
 * machine hits the numerator and the denominator alike.
 */
async function aroundRaw<T>(verify: () => Promise<unknown>, during: () => Promise<T>) {
  const before = await rawCeiling(verify)
  const result = await during()
  const after = await rawCeiling(verify)
  const mean = (a: RawResult, b: RawResult) => (a.opsPerSecond + b.opsPerSecond) / 2
  const best = (before.best + after.best) / 2
  return {
    result,
    best,
    text: `${fmt(best, 1)}/s (mean of before/after; 2 in flight ${fmt(mean(before.two, after.two), 1)}, 4 in flight ${fmt(mean(before.four, after.four), 1)}; p50 ${fmt(before.two.p50Ms, 1)} ms at 2)`,
  }
}

async function peerRun(journal: 'docs' | 'wal') {
  const peer: JsonChild<PeerInfo> = await startJsonChild('bench/peer-server.ts', {
    PEER_DIR,
    PEER_USERS: String(USERS),
    PEER_JOURNAL: journal,
  })
  try {
    const { url } = peer.info
    const signIn = await runLoad(
      {
        url,
        method: 'POST',
        path: '/api/auth/sign-in/email',
        mode: { kind: 'peer-login', prefix: PEER_PREFIX, count: USERS, password: PEER_PASSWORD },
        connections: SIGN_IN_CONNECTIONS,
        durationSeconds: SIGN_IN_SECONDS,
        warmupSeconds: 2,
      },
      peer.pid,
    )
    const res = await fetch(`${url}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${PEER_PREFIX}1@bench.test`, password: PEER_PASSWORD }),
    })
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const session = await loadGet(peer, '/api/auth/get-session', { cookie }, GET_SECONDS)
    return { version: peer.info.version, signIn, session }
  } finally {
    await peer.stop()
  }
}

export async function run(): Promise<ScenarioResult> {
  const missing = peerMissing()
  if (missing) {
    console.log(`peer-better-auth: skipped — ${missing}`)
    return {
      id: 'peer-better-auth',
      title: 'Peer: better-auth (skipped)',
      figures: [],
      goals: [],
      notes: [missing],
    }
  }
  // Their raw hash exactly as they call it: better-auth/crypto verifyPassword (node:crypto scrypt
  // N=16384 r=16 p=1 on the libuv pool, @better-auth/utils' "node" build).
  const crypto = await importPeer<{
    hashPassword(password: string): Promise<string>
    verifyPassword(input: { hash: string; password: string }): Promise<boolean>
  }>('better-auth/crypto')
  const theirHash = await crypto.hashPassword(PEER_PASSWORD)
  const theirRaw = await aroundRaw(
    () => crypto.verifyPassword({ hash: theirHash, password: PEER_PASSWORD }),
    async () => ({ docs: await peerRun('docs'), wal: await peerRun('wal') }),
  )
  const { docs, wal } = theirRaw.result

  const ours = await startUsersCore({ config: benchConfig(), users: USERS })
  let ourRaw: Awaited<ReturnType<typeof aroundRaw<LoadResult>>>
  let ourBearer: LoadResult
  let ourKey: LoadResult
  try {
    const { url } = ours.info
    const signIn = () =>
      runLoad(
        {
          url,
          ...loginRequests(USERS),
          connections: SIGN_IN_CONNECTIONS,
          durationSeconds: SIGN_IN_SECONDS,
          warmupSeconds: 2,
        },
        ours.pid,
      )
    ourRaw = await aroundRaw(await argon2Verifier(), signIn)
    const { access_token } = await login(url, seededUsername(2))
    ourBearer = await loadGet(
      ours,
      '/users/me',
      { authorization: `Bearer ${access_token}` },
      GET_SECONDS,
    )
    ourKey = await loadGet(ours, '/users/me', { 'x-api-key': ours.info.apiKey ?? '' }, GET_SECONDS)
  } finally {
    await ours.stop()
  }

  const ourSignIn = ourRaw.result
  const ourEfficiency = okPerSecond(ourSignIn) / ourRaw.best
  const theirs = [docs, wal].map((p) => okPerSecond(p.signIn) / theirRaw.best)
  const theirBestEfficiency = Math.max(...theirs)
  const theirBestSessionCpu = Math.min(cpuPerRequest(docs.session), cpuPerRequest(wal.session))
  const signInLine = (r: LoadResult) =>
    `${fmt(okPerSecond(r), 1)}/s, ${cpuTime(cpuPerRequest(r))} of server CPU each (p50 ${fmt(r.latencyMs.p50)} ms, p99 ${fmt(r.latencyMs.p99)} ms)`
  return {
    id: 'peer-better-auth',
    title: `Peer: better-auth ${docs.version} (SQLite, email+password) vs users-core`,
    figures: [
      ['their raw scrypt verify (N=16384,r=16,p=1)', theirRaw.text],
      ['our raw Argon2id verify (64 MiB,t=3,p=4)', ourRaw.text],
      [
        'their sign-ins, SQLite as in the docs',
        `${signInLine(docs.signIn)} → efficiency ${fmt(theirs[0] ?? 0, 2)}`,
      ],
      [
        'their sign-ins, SQLite WAL+NORMAL',
        `${signInLine(wal.signIn)} → efficiency ${fmt(theirs[1] ?? 0, 2)}`,
      ],
      ['our logins', `${signInLine(ourSignIn)} → efficiency ${fmt(ourEfficiency, 2)}`],
      [
        'their GET /api/auth/get-session (docs / WAL)',
        `${describe(docs.session)} / ${describe(wal.session)}`,
      ],
      ['our GET /users/me, Bearer JWT', describe(ourBearer)],
      ['our GET /users/me, X-API-Key', describe(ourKey)],
      [
        'their best get-session CPU/request ÷ our API-key /users/me CPU/request',
        fmt(theirBestSessionCpu / cpuPerRequest(ourKey), 2),
      ],
    ],
    goals: [
      {
        name: 'our sign-in efficiency − their best',
        value: ourEfficiency - theirBestEfficiency,
        target: 0,
        kind: 'min',
      },
      {
        name: 'their best get-session CPU/request ÷ our bearer /users/me CPU/request',
        value: theirBestSessionCpu / cpuPerRequest(ourBearer),
        target: 10,
        kind: 'min',
        unit: '×',
      },
    ],
    notes: [
      `${SIGN_IN_CONNECTIONS} connections for sign-ins, 16 for session reads; ${USERS} users on each side; their rate limiter off, like ours`,
      "efficiency = successful sign-ins/s ÷ the side's best raw verifies/s (2 or 4 in flight) measured in this run",
      'their get-session reads the session row from SQLite on every call (cookie cache is off by default)',
      'requests per CPU-second is the inverse of CPU per request: the session goal compares the CPU each server spends on one answer',
    ],
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
