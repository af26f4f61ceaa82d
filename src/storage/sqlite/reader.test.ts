import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { CompiledQuery } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openSqliteDatabase } from './open.js'
import { createSqliteReader, type SqliteReader } from './reader.js'

const q = (sql: string, ...parameters: unknown[]) => CompiledQuery.raw(sql, parameters)

describe('SQLite reader thread', () => {
  let dir: string
  let writer: BetterSqlite3.Database
  let reader: SqliteReader

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'users-core-reader-'))
    const path = join(dir, 'r.db')
    writer = openSqliteDatabase(`sqlite://${path}`)
    writer.exec('create table t (id integer primary key, name text)')
    writer.prepare('insert into t (name) values (?), (?)').run('ann', 'bob')
    reader = createSqliteReader(path)
  })

  afterEach(async () => {
    await reader.close()
    writer.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers each query of a batch in order, with its parameters', async () => {
    const [names, count] = await reader.read([
      q('select name from t where id >= ? order by id', 1),
      q('select count(*) as n from t'),
    ])
    expect(names).toEqual([{ name: 'ann' }, { name: 'bob' }])
    expect(count).toEqual([{ n: 2 }])
  })

  it("sees the writer's commits on its next read", async () => {
    expect(await reader.read([q('select count(*) as n from t')])).toEqual([[{ n: 2 }]])
    writer.prepare('insert into t (name) values (?)').run('cy')
    expect(await reader.read([q('select count(*) as n from t')])).toEqual([[{ n: 3 }]])
  })

  it('refuses to write, and rejects with SQLite codes', async () => {
    // query_only: even a write that returns rows is refused.
    const write = q("insert into t (name) values ('x') returning id")
    await expect(reader.read([write])).rejects.toMatchObject({ code: 'SQLITE_READONLY' })
    await expect(reader.read([q('select nope from t')])).rejects.toMatchObject({
      code: 'SQLITE_ERROR',
    })
    expect(writer.prepare('select count(*) as n from t').get()).toEqual({ n: 2 })
    // A failed read leaves the thread serving.
    expect(await reader.read([q('select count(*) as n from t')])).toEqual([[{ n: 2 }]])
  })

  it('runs off the event loop: timers keep firing while a long read works', async () => {
    // Counting to 3,000,000 in a recursive CTE takes a few hundred ms of one core.
    const slow = q(
      'with recursive c(x) as (select 1 union all select x + 1 from c where x < ?) select count(*) as n from c',
      3_000_000,
    )
    let ticks = 0
    const timer = setInterval(() => ticks++, 5)
    let settled = false
    const result = reader.read([slow]).finally(() => {
      settled = true
    })
    // On the main connection not one tick could run before the read settled.
    await new Promise((resolve) => setTimeout(resolve, 60))
    const ticksWhileReading = ticks
    const stillReading = !settled
    expect(await result).toEqual([[{ n: 3_000_000 }]])
    clearInterval(timer)
    expect(stillReading).toBe(true)
    expect(ticksWhileReading).toBeGreaterThanOrEqual(3)
  })

  it('rejects reads after close, and a read in flight when it closes', async () => {
    const slow = q(
      'with recursive c(x) as (select 1 union all select x + 1 from c where x < ?) select count(*) as n from c',
      3_000_000,
    )
    const inFlight = expect(reader.read([slow])).rejects.toThrow(/closed/)
    await reader.close()
    await inFlight
    await expect(reader.read([q('select 1')])).rejects.toThrow(/closed/)
  })
})
