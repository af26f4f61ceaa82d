import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** Where better-auth was installed for the comparison (outside the repository). */
export const PEER_DIR = process.env.PEER_DIR ?? '/tmp/peer'

/** Password of every peer user (better-auth's default policy: 8+ characters). */
export const PEER_PASSWORD = 'Bench-Passw0rd-2024'
/** Peer users are `${PEER_PREFIX}${n}@bench.test`, n from 1. */
export const PEER_PREFIX = 'peer'

/** Why the peer cannot run, or undefined when it can. */
export function peerMissing(): string | undefined {
  for (const pkg of ['better-auth', 'better-sqlite3']) {
    if (!existsSync(join(PEER_DIR, 'node_modules', pkg, 'package.json'))) {
      return `${pkg} is not installed in PEER_DIR=${PEER_DIR}. Install the peer outside the repository:
  mkdir -p ${PEER_DIR} && cd ${PEER_DIR} && npm init -y && npm install better-auth better-sqlite3@12
  (and let better-sqlite3 build: npm install-scripts approve better-sqlite3 && npm rebuild better-sqlite3)`
    }
  }
  return undefined
}

/** Imports `specifier` as resolved from PEER_DIR (not from this repository). */
export async function importPeer<T>(specifier: string): Promise<T> {
  const require = createRequire(join(PEER_DIR, 'package.json'))
  return (await import(pathToFileURL(require.resolve(specifier)).href)) as T
}

/** Loads a CommonJS package from PEER_DIR. */
export function requirePeer<T>(specifier: string): T {
  return createRequire(join(PEER_DIR, 'package.json'))(specifier) as T
}

/** The installed better-auth version. */
export function peerVersion(): string {
  const file = join(PEER_DIR, 'node_modules', 'better-auth', 'package.json')
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
}
