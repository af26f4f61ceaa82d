import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The maintenance database tests create their throwaway databases from (trust auth, local). */
export const POSTGRES_ADMIN_URL =
  process.env.USERS_CORE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A throwaway PostgreSQL database: its URL and how to drop it. */
export interface TempPostgresDatabase {
  url: string
  drop(): Promise<void>
  /** Kills every server connection to it, as a database restart or failover would. */
  terminateConnections(): Promise<void>
}

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: POSTGRES_ADMIN_URL,
    connectionTimeoutMillis: 2000,
  })
  // A server-side disconnect would otherwise surface as an unhandled 'error' event.
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * Why PostgreSQL cannot be used (undefined when it can), checked once per test file. Under CI a
 * missing PostgreSQL is a failure, not a skip: CI starts it.
 */
export async function postgresUnavailableReason(): Promise<string | undefined> {
  let reason: string | undefined
  try {
    await withAdminClient((client) => client.query('select 1'))
  } catch (error) {
    const url = new URL(POSTGRES_ADMIN_URL)
    reason = `PostgreSQL unreachable at ${url.host} (${(error as Error).message || String(error)})`
  }
  if (reason && process.env.CI === 'true')
    throw new Error(`CI must run the PostgreSQL suites: ${reason}`)
  return reason
}

/** True when the test PostgreSQL server accepts connections. */
export async function isPostgresAvailable(): Promise<boolean> {
  return (await postgresUnavailableReason()) === undefined
}

/** Creates `users_core_test_<random>` on the test server; `drop()` removes it with FORCE. */
export async function createTempPostgresDatabase(): Promise<TempPostgresDatabase> {
  const name = `users_core_test_${randomBytes(6).toString('hex')}`
  await withAdminClient((client) => client.query(`create database ${name}`))
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    terminateConnections: () =>
      withAdminClient(async (client) => {
        await client.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [name],
        )
      }),
    drop: () =>
      withAdminClient(async (client) => {
        await client.query(`drop database if exists ${name} with (force)`)
      }),
  }
}
