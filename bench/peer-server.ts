// better-auth as its docs set it up — a better-sqlite3 database, its migrations, email and
// password sign-in — served by node:http through its Node handler, in its own process. Reads
// PEER_DIR, PEER_USERS and PEER_JOURNAL (`docs`: the database exactly as the docs open it;
// `wal`: WAL + synchronous=NORMAL like users-core).
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { announce } from './lib/child.js'
import { importPeer, PEER_PASSWORD, PEER_PREFIX, peerVersion, requirePeer } from './lib/peer.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
interface Auth {
  options: unknown
  api: { signUpEmail(input: { body: Record<string, string> }): Promise<unknown> }
}
interface SqliteDatabase {
  pragma(text: string): unknown
}

const users = Number(process.env.PEER_USERS ?? 100)
const journal = process.env.PEER_JOURNAL === 'wal' ? 'wal' : 'docs'
const dir = mkdtempSync(join(tmpdir(), 'peer-better-auth-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

const { betterAuth } = await importPeer<{ betterAuth(options: unknown): Auth }>('better-auth')
const { toNodeHandler } = await importPeer<{ toNodeHandler(auth: Auth): Handler }>(
  'better-auth/node',
)
const { getMigrations } = await importPeer<{
  getMigrations(options: unknown): Promise<{ runMigrations(): Promise<void> }>
}>('better-auth/db/migration')
const Database = requirePeer<new (path: string) => SqliteDatabase>('better-sqlite3')

const db = new Database(join(dir, 'sqlite.db'))
if (journal === 'wal') {
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
}

let handler: Handler = (_req, res) => res.writeHead(503).end()
const server = createServer((req, res) => handler(req, res))
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

const auth = betterAuth({
  database: db,
  baseURL: url,
  secret: 'bench-secret-bench-secret-bench-secret-0123456789',
  emailAndPassword: { enabled: true },
  // Its limiter is off in development anyway; stated so the figures measure sign-in, not it.
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { disabled: true },
})
// The programmatic form of `npx @better-auth/cli migrate`.
await (await getMigrations(auth.options)).runMigrations()

let next = 1
const signUp = async () => {
  while (next <= users) {
    const n = next++
    await auth.api.signUpEmail({
      body: { email: `${PEER_PREFIX}${n}@bench.test`, password: PEER_PASSWORD, name: `Peer ${n}` },
    })
  }
}
await Promise.all([signUp(), signUp()])
handler = toNodeHandler(auth)
process.once('SIGTERM', () => {
  server.close(() => process.exit(0))
  server.closeAllConnections()
})
announce({ url, pid: process.pid, version: peerVersion(), journal, users })
