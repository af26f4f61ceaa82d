import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, test } from 'vitest'
import { isUsersError } from '../../src/errors.js'
import { computeHa1, expectedResponse, HA1_ALGORITHMS } from '../../src/sip/digest.js'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'
import { createTempPostgresDatabase, postgresUnavailableReason } from '../helpers/databases.js'

// The SIP credential store on every database users-core runs on, through the core.
const postgresMissing = await postgresUnavailableReason()

const targets: {
  name: string
  skip?: string
  open(): Promise<{ url: string; drop(): Promise<void> }>
}[] = [
  {
    name: 'SQLite memory',
    open: async () => ({ url: 'sqlite::memory:', drop: async () => undefined }),
  },
  {
    name: 'SQLite file',
    open: async () => ({
      url: `sqlite://${join(mkdtempSync(join(tmpdir(), 'users-core-sip-')), 'users.db')}`,
      drop: async () => undefined,
    }),
  },
  {
    name: 'PostgreSQL',
    ...(postgresMissing ? { skip: postgresMissing } : {}),
    open: async () => {
      const db = await createTempPostgresDatabase()
      return { url: db.url, drop: db.drop }
    },
  },
]

async function conflictField(work: Promise<unknown>): Promise<unknown> {
  try {
    await work
  } catch (error) {
    if (isUsersError(error) && error.code === 'CONFLICT')
      return (error.details as { field: string }).field
    throw error
  }
  throw new Error('expected a CONFLICT')
}

const digestOf = (name: string, secret: string) => {
  const fields = {
    algorithm: 'SHA-256' as const,
    method: 'REGISTER',
    uri: 'sip:x',
    nonce: 'n1',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'c1',
  }
  return {
    username: name,
    realm: 'rvoip',
    ...fields,
    response: expectedResponse(computeHa1('SHA-256', name, 'rvoip', secret), fields),
  }
}

describe.each(targets)('SIP credentials on $name', (target) => {
  test.skipIf(target.skip !== undefined)(
    `create, conflict, list, verify, revoke, cascade${target.skip ? ` (skipped: ${target.skip})` : ''}`,
    async () => {
      const database = await target.open()
      let core: UsersCore | undefined
      try {
        core = (await createTestCore({ database_url: database.url })).core
        const alice = await core.createUser({ username: 'alice', password: GOOD_PASSWORD })
        const bob = await core.createUser({ username: 'bob', password: GOOD_PASSWORD })
        const desk = await core.sip.createCredential({ userId: alice.id, label: 'desk' })
        if (database.url.startsWith('sqlite://')) {
          // At rest: sealed values only, no secret and no HA1 in the row.
          const file = new Database(database.url.slice('sqlite://'.length), { readonly: true })
          const row = JSON.stringify(file.prepare('select * from sip_credentials').all())
          file.close()
          expect(row).toContain('fs1:')
          expect(row).not.toContain(desk.secret)
          for (const algorithm of HA1_ALGORITHMS) {
            expect(row).not.toContain(computeHa1(algorithm, 'alice-desk', 'rvoip', desk.secret))
          }
        }
        expect(
          await conflictField(
            core.sip.createCredential({
              userId: alice.id,
              label: 'desk',
              sipUsername: 'other-name',
            }),
          ),
        ).toBe('label')
        expect(
          await conflictField(
            core.sip.createCredential({ userId: bob.id, label: 'x', sipUsername: 'Alice-Desk' }),
          ),
        ).toBe('sip_username')
        // A label is unique per user only.
        await core.sip.createCredential({ userId: bob.id, label: 'desk' })

        expect(await core.sip.verifyDigest(digestOf('alice-desk', desk.secret))).toMatchObject({
          valid: true,
          userId: alice.id,
        })
        // Another case is another name: the digest covers the name as stored.
        expect(await core.sip.verifyDigest(digestOf('Alice-desk', desk.secret))).toEqual({
          valid: false,
        })
        const [listed] = await core.sip.listCredentials(alice.id)
        expect(listed?.lastUsedAt).toBeInstanceOf(Date)

        await core.sip.revokeCredential(desk.credential.id)
        await expect(core.sip.revokeCredential(desk.credential.id)).rejects.toMatchObject({
          code: 'NOT_FOUND',
        })
        expect((await core.sip.listCredentials(alice.id)).map((c) => c.revoked)).toEqual([true])
        // A revoked label is free again; the revoked sip_username is not.
        expect(
          await conflictField(core.sip.createCredential({ userId: alice.id, label: 'desk' })),
        ).toBe('sip_username')
        const again = await core.sip.createCredential({
          userId: alice.id,
          label: 'desk',
          sipUsername: 'alice-desk2',
        })
        expect(await core.sip.verifyDigest(digestOf('alice-desk', desk.secret))).toEqual({
          valid: false,
        })

        await core.users.delete(alice.id)
        expect(await core.sip.getCredential(again.credential.id)).toBeUndefined()
        expect(await core.sip.listCredentials(bob.id)).toHaveLength(1)
      } finally {
        await core?.close()
        await database.drop()
      }
    },
  )
})
