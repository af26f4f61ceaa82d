import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Kysely, sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { computeAuditHash, GENESIS_HASH } from '../../src/audit/chain.js'
import type { ConfigInput } from '../../src/config/schema.js'
import type { AuditEventRecord } from '../../src/domain/records.js'
import { MIGRATIONS } from '../../src/storage/migrations/index.js'
import { runMigrations } from '../../src/storage/migrator.js'
import { createPostgresKysely } from '../../src/storage/postgres/open.js'
import { rowToAuditEvent } from '../../src/storage/row-mapping.js'
import type { Database, Dialect } from '../../src/storage/schema.js'
import { createSqliteKysely } from '../../src/storage/sqlite/open.js'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'
import {
  createTempPostgresDatabase,
  postgresUnavailableReason,
  type TempPostgresDatabase,
} from '../helpers/databases.js'

const CHAIN_KEY = 'audit-chain-key-for-tests-0123456789abcdef'
const KEY_ENCRYPTION_SECRET = 'key-encryption-secret-for-tests'

interface Target {
  name: string
  dialect: Dialect
  /** A fresh database URL and a raw Kysely on it, as an attacker with write access would use. */
  open(): Promise<{ url: string; raw: Kysely<Database>; cleanup(): Promise<void> }>
}

const sqliteFile: Target = {
  name: 'SQLite',
  dialect: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'users-core-chain-'))
    const url = `sqlite://${join(dir, 'users.db')}`
    const raw = createSqliteKysely(url)
    return {
      url,
      raw,
      cleanup: async () => {
        await raw.destroy()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
}

const pgUnavailable = await postgresUnavailableReason()
const postgres: Target = {
  name: 'PostgreSQL',
  dialect: 'postgres',
  async open() {
    const temp: TempPostgresDatabase = await createTempPostgresDatabase()
    const raw = createPostgresKysely(temp.url, { poolSize: 2 })
    return {
      url: temp.url,
      raw,
      cleanup: async () => {
        await raw.destroy()
        await temp.drop()
      },
    }
  },
}

async function readRows(raw: Kysely<Database>): Promise<AuditEventRecord[]> {
  const rows = await raw.selectFrom('audit_events').selectAll().orderBy('seq', 'asc').execute()
  return rows.map(rowToAuditEvent)
}

/**
 * What an attacker without the key does after tampering: recompute every unkeyed hash from the
 * anchor and point the head (and, with `moveAnchor`, the anchor) at the result.
 */
async function rechain(raw: Kysely<Database>, moveAnchor = false): Promise<void> {
  const rows = await readRows(raw)
  const chain = await raw.selectFrom('audit_chain').selectAll().executeTakeFirstOrThrow()
  const first = rows[0]
  let anchorSeq = Number(chain.anchor_seq)
  let anchorHash = chain.anchor_hash
  if (moveAnchor && first) {
    anchorSeq = first.seq - 1
    anchorHash = first.prevHash
  }
  let prev = anchorHash
  let seq = anchorSeq
  for (const row of rows) {
    seq += 1
    const hash = computeAuditHash(prev, seq, row)
    await raw
      .updateTable('audit_events')
      .set({ seq, prev_hash: prev, hash })
      .where('id', '=', row.id)
      .execute()
    prev = hash
  }
  await raw
    .updateTable('audit_chain')
    .set({ head_seq: seq, head_hash: prev, anchor_seq: anchorSeq, anchor_hash: anchorHash })
    .execute()
}

/** Writes `n` audit events through the service: one user.created, then user.updated ones. */
async function writeEvents(core: UsersCore, n: number, name = 'chained'): Promise<void> {
  const user = await core.createUser({ username: name, password: GOOD_PASSWORD })
  for (let i = 1; i < n; i++) await core.users.update(user.id, { displayName: `v${i}` })
}

const targets = pgUnavailable ? [sqliteFile] : [sqliteFile, postgres]
if (pgUnavailable) {
  describe.skip(`PostgreSQL: ${pgUnavailable}`, () => {
    it('skipped', () => undefined)
  })
}

for (const target of targets) {
  describe(`${target.name}: the keyed audit chain`, { timeout: 60_000 }, () => {
    let cleanups: (() => Promise<void>)[] = []
    afterEach(async () => {
      for (const c of cleanups.reverse()) await c()
      cleanups = []
    })

    async function openKeyed(config: ConfigInput = { audit: { chain_key: CHAIN_KEY } }) {
      const db = await target.open()
      const t = await createTestCore({ database_url: db.url, ...config })
      cleanups.push(db.cleanup, () => t.core.close())
      return { ...t, raw: db.raw, url: db.url }
    }

    it('the review: first 20 and last 10 deleted, head rewritten, verify fails', async () => {
      const { core, raw } = await openKeyed()
      await writeEvents(core, 50)
      expect(await core.audit.verify()).toMatchObject({ ok: true, checked: 50, keyed: true })
      await raw.deleteFrom('audit_events').where('seq', '<=', 20).execute()
      await raw.deleteFrom('audit_events').where('seq', '>', 40).execute()
      const [r21, r40] = [
        await raw
          .selectFrom('audit_events')
          .selectAll()
          .where('seq', '=', 21)
          .executeTakeFirstOrThrow(),
        await raw
          .selectFrom('audit_events')
          .selectAll()
          .where('seq', '=', 40)
          .executeTakeFirstOrThrow(),
      ]
      await raw
        .updateTable('audit_chain')
        .set({ head_seq: 40, head_hash: r40.hash, anchor_seq: 20, anchor_hash: r21.prev_hash })
        .execute()
      expect((await core.audit.verify()).ok).toBe(false)
    })

    it('an edited row fails, even with every later hash recomputed', async () => {
      const { core, raw } = await openKeyed()
      await writeEvents(core, 30)
      await raw.updateTable('audit_events').set({ ip: '6.6.6.6' }).where('seq', '=', 12).execute()
      expect(await core.audit.verify()).toMatchObject({ ok: false, problem: { seq: 12 } })
      await rechain(raw)
      expect((await core.audit.verify()).ok).toBe(false)
    })

    it('a row deleted in the middle fails, even with the rest renumbered and rechained', async () => {
      const { core, raw } = await openKeyed()
      await writeEvents(core, 30)
      await raw.deleteFrom('audit_events').where('seq', '=', 15).execute()
      expect((await core.audit.verify()).ok).toBe(false)
      await rechain(raw)
      expect(
        Number(
          (await raw.selectFrom('audit_chain').select('head_seq').executeTakeFirstOrThrow())
            .head_seq,
        ),
      ).toBe(29)
      expect((await core.audit.verify()).ok).toBe(false)
    })

    it('rows deleted at the start fail, with the anchor moved to the first kept row', async () => {
      const { core, raw } = await openKeyed()
      await writeEvents(core, 30)
      await raw.deleteFrom('audit_events').where('seq', '<=', 5).execute()
      await rechain(raw, true)
      expect((await core.audit.verify()).ok).toBe(false)
      // Claiming the chain was keyed only from there does not help either.
      await raw.updateTable('audit_chain').set({ keyed_seq: 5 }).execute()
      expect((await core.audit.verify()).ok).toBe(false)
    })

    it('rows deleted at the end fail, with the head moved to the new last row', async () => {
      const { core, raw } = await openKeyed()
      await writeEvents(core, 30)
      await raw.deleteFrom('audit_events').where('seq', '>', 25).execute()
      await rechain(raw)
      expect((await core.audit.verify()).ok).toBe(false)
      // Later appends chain on from the forged head, but do not hide the truncation.
      await writeEvents(core, 3, 'later')
      expect((await core.audit.verify()).ok).toBe(false)
    })

    it('a rewritten head row fails: a forged event appended, or the seal removed', async () => {
      const { core, raw } = await openKeyed()
      await writeEvents(core, 10)
      const [last] = (await readRows(raw)).slice(-1)
      if (!last) throw new Error('no rows')
      const forged = {
        ...last,
        id: '01900000-0000-7000-8000-000000000000',
        seq: 11,
        type: 'user.deleted' as const,
      }
      const hash = computeAuditHash(last.hash, 11, forged)
      await raw
        .insertInto('audit_events')
        .values({
          seq: 11,
          id: forged.id,
          at: forged.at.getTime(),
          type: forged.type,
          actor_type: forged.actor.type,
          actor_id: forged.actor.id,
          user_id: forged.userId,
          ip: forged.ip,
          user_agent: forged.userAgent,
          request_id: forged.requestId,
          details: JSON.stringify(forged.details),
          prev_hash: last.hash,
          hash,
        })
        .execute()
      await raw.updateTable('audit_chain').set({ head_seq: 11, head_hash: hash }).execute()
      expect((await core.audit.verify()).ok).toBe(false)
      await raw
        .updateTable('audit_chain')
        .set({ head_tag: null, keyed_seq: null, key_check: null })
        .execute()
      expect(await core.audit.verify()).toMatchObject({ ok: false, keyed: false })
    })

    it('retention deletes old events and the chain still verifies, before and after more appends', async () => {
      const { core, clock } = await openKeyed({
        audit: { chain_key: CHAIN_KEY, retention_days: 1 },
      })
      await writeEvents(core, 5, 'old1')
      clock.advance(2 * 86_400_000)
      await writeEvents(core, 5, 'new1')
      expect(await core.audit.prune()).toBe(5)
      expect(await core.audit.verify()).toMatchObject({ ok: true, checked: 5, keyed: true })
      clock.advance(2 * 86_400_000)
      await writeEvents(core, 3, 'new2')
      expect(await core.audit.prune()).toBe(5)
      expect(await core.audit.verify()).toMatchObject({ ok: true, checked: 3, keyed: true })
      clock.advance(2 * 86_400_000)
      expect(await core.audit.prune()).toBe(3)
      expect(await core.audit.verify()).toMatchObject({ ok: true, checked: 0, keyed: true })
      await writeEvents(core, 2, 'new3')
      expect(await core.audit.verify()).toMatchObject({ ok: true, checked: 2, keyed: true })
    })

    it('keys the chain from jwt.key_encryption_secret when audit.chain_key is unset', async () => {
      const { core, raw } = await openKeyed({
        jwt: { key_encryption_secret: KEY_ENCRYPTION_SECRET },
      })
      await writeEvents(core, 10)
      expect(await core.audit.verify()).toMatchObject({ ok: true, keyed: true })
      await raw.deleteFrom('audit_events').where('seq', '>', 8).execute()
      await rechain(raw)
      expect((await core.audit.verify()).ok).toBe(false)
    })

    it('without any key the chain stays unkeyed and verify says so: the review passes it', async () => {
      const { core, raw } = await openKeyed({})
      await writeEvents(core, 50)
      expect(await core.audit.verify()).toMatchObject({ ok: true, checked: 50, keyed: false })
      await raw.deleteFrom('audit_events').where('seq', '<=', 20).execute()
      await raw.deleteFrom('audit_events').where('seq', '>', 40).execute()
      await rechain(raw, true)
      expect(await core.audit.verify()).toMatchObject({ ok: true, checked: 20, keyed: false })
    })

    it('an old unkeyed chain upgraded to a keyed one verifies, and is protected from then on', async () => {
      const db = await target.open()
      cleanups.push(db.cleanup)
      // A database from before the key: every migration but the chain key's, and a legacy chain.
      const legacy = MIGRATIONS.filter((m) => m.name !== '0008_audit_chain_key')
      await runMigrations(db.raw, target.dialect, legacy)
      let prev = GENESIS_HASH
      for (let seq = 1; seq <= 5; seq++) {
        const event = {
          id: `01900000-0000-7000-8000-00000000000${seq}`,
          at: new Date(Date.UTC(2026, 0, seq)),
          type: 'user.login.failed' as const,
          actor: { type: 'anonymous' as const, id: null },
          userId: null,
          ip: '192.0.2.1',
          userAgent: null,
          requestId: null,
          details: { username: `u${seq}` },
        }
        const hash = computeAuditHash(prev, seq, event)
        await sql`insert into audit_events (seq, id, at, type, actor_type, actor_id, user_id, ip,
          user_agent, request_id, details, prev_hash, hash) values (${seq}, ${event.id},
          ${event.at.getTime()}, ${event.type}, 'anonymous', null, null, '192.0.2.1', null, null,
          ${JSON.stringify(event.details)}, ${prev}, ${hash})`.execute(db.raw)
        prev = hash
      }
      await sql`update audit_chain set head_seq = 5, head_hash = ${prev}`.execute(db.raw)

      const { core } = await createTestCore({
        database_url: db.url,
        audit: { chain_key: CHAIN_KEY },
      })
      cleanups.push(() => core.close())
      expect(core.migrations.applied).toEqual(['0008_audit_chain_key'])
      expect(await core.audit.verify()).toMatchObject({
        ok: true,
        checked: 5,
        keyed: true,
        state: { keyedSeq: 5 },
      })
      await writeEvents(core, 3)
      expect(await core.audit.verify()).toMatchObject({ ok: true, checked: 8, keyed: true })
      // Pre-key rows feed the keyed head through their hashes: editing one is caught too.
      await db.raw.updateTable('audit_events').set({ ip: '6.6.6.6' }).where('seq', '=', 2).execute()
      await rechain(db.raw)
      expect((await core.audit.verify()).ok).toBe(false)
    })

    it('a chain written without a key is not trusted once a key is set, until sealed', async () => {
      const db = await target.open()
      cleanups.push(db.cleanup)
      const first = await createTestCore({ database_url: db.url })
      await writeEvents(first.core, 4)
      await first.core.close()
      const { core } = await createTestCore({
        database_url: db.url,
        audit: { chain_key: CHAIN_KEY },
      })
      cleanups.push(() => core.close())
      expect(await core.audit.verify()).toMatchObject({ ok: false, keyed: false })
      expect(await core.audit.seal()).toBe(true)
      expect(await core.audit.seal()).toBe(false)
      expect(await core.audit.verify()).toMatchObject({ ok: true, checked: 4, keyed: true })
    })

    it('refuses to start with a different key, or with none, once the chain is keyed', async () => {
      const { core, url } = await openKeyed()
      await writeEvents(core, 2)
      await expect(
        createTestCore({ database_url: url, audit: { chain_key: `${CHAIN_KEY}-other` } }),
      ).rejects.toMatchObject({ code: 'INTERNAL_ERROR' })
      await expect(createTestCore({ database_url: url })).rejects.toMatchObject({
        code: 'INTERNAL_ERROR',
      })
    })
  })
}
