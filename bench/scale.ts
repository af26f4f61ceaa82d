// Scale: 1,000,000 users seeded through the Store's bulk path with one
// pre-computed Argon2id hash; login p50 at 1M ÷ at 1k, GET /users?search= and a deep page, and
// database bytes per user.
import { type LoadResult, runLoad } from './lib/load.js'
import { QUICK, rounds, seconds } from './lib/quick.js'
import { fmt, isMain, runAsProgram, type ScenarioResult } from './lib/report.js'
import { benchConfig, loginRequests, startUsersCore, USER_PAD } from './lib/users-core.js'

const SMALL = 1000
const LARGE = Number(process.env.BENCH_SCALE_USERS ?? (QUICK ? 20_000 : 1_000_000))
/** Login seconds per side, split into interleaved rounds. */
const LOGIN_SECONDS = seconds(12)
const QUERY_SECONDS = seconds(5)

/** Login rounds per side, interleaved (small, large, small, …) so drift hits both alike. */
const LOGIN_ROUNDS = rounds(3)

interface Measured {
  login: LoadResult
  search: LoadResult
  firstPage: LoadResult
  activePage: LoadResult
  adminPage: LoadResult
  userRolePage: LoadResult
  shortSearch: LoadResult
  jwksBesideSearch: LoadResult
  deepPage: LoadResult
  seedMs: number
  dbBytes: number
}

type Server = Awaited<ReturnType<typeof startUsersCore>>

/** One connection: the p50 is the request's own cost, not a queue behind other logins. */
function loadLogins(server: Server): Promise<LoadResult> {
  return runLoad({
    url: server.info.url,
    ...loginRequests(server.info.users),
    connections: 1,
    durationSeconds: LOGIN_SECONDS / LOGIN_ROUNDS,
    warmupSeconds: 1,
  })
}

/** Rounds of one side as one result: p50 the median of the rounds' p50s, the worst p99. */
function combine(rounds: LoadResult[]): LoadResult {
  const sorted = (pick: (r: LoadResult) => number) => rounds.map(pick).sort((x, y) => x - y)
  const median = (pick: (r: LoadResult) => number) =>
    sorted(pick)[Math.floor(rounds.length / 2)] as number
  const first = rounds[0] as LoadResult
  return {
    ...first,
    total: rounds.reduce((n, r) => n + r.total, 0),
    latencyMs: {
      p50: median((r) => r.latencyMs.p50),
      p90: median((r) => r.latencyMs.p90),
      p99: Math.max(...rounds.map((r) => r.latencyMs.p99)),
      max: Math.max(...rounds.map((r) => r.latencyMs.max)),
      mean: median((r) => r.latencyMs.mean),
    },
  }
}

async function queries(server: Server, login: LoadResult): Promise<Measured> {
  const { url, adminApiKey, users } = server.info
  const get = (path: string) =>
    runLoad({
      url,
      method: 'GET',
      path,
      headers: { 'x-api-key': adminApiKey },
      mode: { kind: 'fixed' },
      connections: 1,
      durationSeconds: QUERY_SECONDS,
      warmupSeconds: 1,
      timeoutSeconds: 30,
    })
  // A substring that matches one user in the middle of the table (search is a substring match).
  const needle = String(Math.ceil(users / 2)).padStart(USER_PAD, '0')
  const search = await get(`/users?search=${needle}`)
  const firstPage = await get('/users?limit=50')
  const activePage = await get('/users?active=true&limit=50')
  // Role filters (references, not goals): a rare role is listed from the role index; the role
  // every seeded user holds by walking users newest first, its total counted from the index.
  const adminPage = await get('/users?role=admin&limit=50')
  const userRolePage = await get('/users?role=user&limit=50')
  // A 1-character search: no index serves it, so it reads every user (on the reader thread).
  // JWKS requests at a steady rate meanwhile show whether it holds up the rest of the server.
  const [shortSearch, jwksBesideSearch] = await Promise.all([
    get('/users?search=q&limit=50'),
    runLoad({
      url,
      method: 'GET',
      path: '/auth/jwks.json',
      mode: { kind: 'fixed' },
      connections: 2,
      overallRate: 100,
      durationSeconds: QUERY_SECONDS,
      warmupSeconds: 1,
    }),
  ])
  const deepOffset = Math.floor(users * 0.9)
  const deepPage = await get(`/users?offset=${deepOffset}&limit=50`)
  return {
    login,
    search,
    firstPage,
    activePage,
    adminPage,
    userRolePage,
    shortSearch,
    jwksBesideSearch,
    deepPage,
    seedMs: server.info.seedMs,
    dbBytes: server.info.dbBytes,
  }
}

/** Both servers up at once; logins interleaved, then each side's queries. */
async function measureBoth(): Promise<{ small: Measured; large: Measured }> {
  const smallServer = await startUsersCore({ config: benchConfig(), users: SMALL })
  let largeServer: Server | undefined
  try {
    largeServer = await startUsersCore({ config: benchConfig(), users: LARGE })
    const smallLogins: LoadResult[] = []
    const largeLogins: LoadResult[] = []
    for (let round = 0; round < LOGIN_ROUNDS; round++) {
      smallLogins.push(await loadLogins(smallServer))
      largeLogins.push(await loadLogins(largeServer))
    }
    return {
      small: await queries(smallServer, combine(smallLogins)),
      large: await queries(largeServer, combine(largeLogins)),
    }
  } finally {
    await Promise.all([smallServer.stop(), largeServer?.stop()])
  }
}

const p50 = (r: LoadResult) => r.latencyMs.p50
const line = (r: LoadResult) =>
  `p50 ${fmt(r.latencyMs.p50, 1)} ms, p99 ${fmt(r.latencyMs.p99, 1)} ms (${fmt(r.total)} requests${
    Object.keys(r.statusCounts).some((c) => c !== '200')
      ? `; statuses ${JSON.stringify(r.statusCounts)}`
      : ''
  })`

export async function run(): Promise<ScenarioResult> {
  const { small, large } = await measureBoth()
  return {
    id: 'scale',
    title: `Scale: ${fmt(LARGE)} users vs ${fmt(SMALL)}`,
    figures: [
      [
        `seed ${fmt(LARGE)} users (bulk insert, one shared hash)`,
        `${fmt(large.seedMs / 1000, 1)} s (${fmt(LARGE / (large.seedMs / 1000))} users/s)`,
      ],
      [
        `database size at ${fmt(LARGE)}`,
        `${fmt(large.dbBytes / 2 ** 20, 1)} MiB = ${fmt(large.dbBytes / LARGE)} bytes per user`,
      ],
      [`login at ${fmt(SMALL)} (1 connection)`, line(small.login)],
      [`login at ${fmt(LARGE)} (1 connection)`, line(large.login)],
      [`GET /users?search= at ${fmt(SMALL)}`, line(small.search)],
      [`GET /users?search= at ${fmt(LARGE)}`, line(large.search)],
      [`GET /users?limit=50 at ${fmt(LARGE)}`, line(large.firstPage)],
      [`GET /users?active=true&limit=50 at ${fmt(LARGE)}`, line(large.activePage)],
      [`GET /users?role=admin&limit=50 at ${fmt(LARGE)} (reference)`, line(large.adminPage)],
      [`GET /users?role=user&limit=50 at ${fmt(LARGE)} (reference)`, line(large.userRolePage)],
      [`GET /users?search=q (1 character) at ${fmt(LARGE)} (reference)`, line(large.shortSearch)],
      [`GET /auth/jwks.json at ~100/s meanwhile (reference)`, line(large.jwksBesideSearch)],
      [`GET /users?offset=${fmt(Math.floor(SMALL * 0.9))} at ${fmt(SMALL)}`, line(small.deepPage)],
      [
        `GET /users?offset=${fmt(Math.floor(LARGE * 0.9))}&limit=50 at ${fmt(LARGE)}`,
        line(large.deepPage),
      ],
    ],
    goals: [
      {
        name: `login p50 at ${fmt(LARGE)} ÷ at ${fmt(SMALL)}`,
        value: p50(large.login) / p50(small.login),
        target: 1.1,
        kind: 'max',
      },
      {
        name: `search p50 at ${fmt(LARGE)}`,
        value: p50(large.search),
        target: 50,
        kind: 'max',
        unit: ' ms',
      },
      {
        name: `deep page p50 at ${fmt(LARGE)}`,
        value: p50(large.deepPage),
        target: 20,
        kind: 'max',
        unit: ' ms',
      },
    ],
    notes: [
      'users are seeded by Store.insertUsers (multi-row INSERTs, 20,000 per transaction) with ONE Argon2id hash of the bench password computed at the default parameters and reused for every row; a verify costs the same for every user',
      'every seeded user has an email and a display name; requests are authenticated by an admin API key',
      'autocannon reports latency in whole milliseconds',
      `login p50 is the median of ${LOGIN_ROUNDS} interleaved rounds per side (both servers up at once), so drift of a shared machine hits both sides alike`,
    ],
  }
}

if (isMain(import.meta.url)) await runAsProgram(run)
