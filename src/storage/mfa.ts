import type { Kysely, Selectable } from 'kysely'
import type { MfaFactorRecord, MfaFactorType, MfaTokenRecord } from '../domain/records.js'
import type { MfaFactorUse, Store } from '../domain/store.js'
import { guard, type StoreContext } from './context.js'
import { revokeLiveSessions } from './revocations.js'
import { toDate, toDateOrNull, toMillis, toMillisOrNull } from './row-mapping.js'
import type { Database, MfaFactorsTable, MfaTokensTable } from './schema.js'
import { writeLogin } from './sessions.js'

/** Thrown inside a transaction to roll it back when a one-time use did not apply. */
class NotApplied extends Error {
  constructor(readonly outcome: 'token_used' | 'factor_used') {
    super(outcome)
  }
}

const rowToFactor = (r: Selectable<MfaFactorsTable>): MfaFactorRecord => ({
  id: r.id,
  userId: r.user_id,
  type: r.type as MfaFactorType,
  name: r.name,
  status: r.status === 'confirmed' ? 'confirmed' : 'pending',
  totpSecretSealed: r.totp_secret,
  totpLastStep: r.totp_last_step === null ? null : Number(r.totp_last_step),
  credentialId: r.credential_id,
  publicKey: r.public_key,
  signCount: r.sign_count === null ? null : Number(r.sign_count),
  transports: JSON.parse(r.transports) as string[],
  createdAt: toDate(r.created_at),
  confirmedAt: toDateOrNull(r.confirmed_at),
  lastUsedAt: toDateOrNull(r.last_used_at),
})

const rowToToken = (r: Selectable<MfaTokensTable>): MfaTokenRecord => ({
  tokenHash: r.token_hash,
  userId: r.user_id,
  ip: r.ip,
  createdAt: toDate(r.created_at),
  expiresAt: toDate(r.expires_at),
  consumedAt: toDateOrNull(r.consumed_at),
  webauthnChallenge: r.webauthn_challenge,
})

async function insertRecoveryCodes(
  trx: Kysely<Database>,
  userId: string,
  hashes: readonly string[],
  at: Date,
): Promise<void> {
  await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute()
  if (hashes.length === 0) return
  await trx
    .insertInto('mfa_recovery_codes')
    .values(
      hashes.map((h) => ({
        user_id: userId,
        code_hash: h,
        created_at: toMillis(at),
        used_at: null,
      })),
    )
    .execute()
}

/** Applies the one-time use of a factor inside `trx`; false when it was used already. */
async function applyFactorUse(
  trx: Kysely<Database>,
  use: MfaFactorUse,
  at: number,
): Promise<boolean> {
  switch (use.kind) {
    case 'totp': {
      // RFC 6238 §5.2: a code is accepted once; a later step than the last one, or nothing.
      const r = await trx
        .updateTable('mfa_factors')
        .set({ totp_last_step: use.step, last_used_at: at })
        .where('id', '=', use.factorId)
        .where('status', '=', 'confirmed')
        .where((eb) =>
          eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', use.step)]),
        )
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    }
    case 'recovery_code': {
      const r = await trx
        .updateTable('mfa_recovery_codes')
        .set({ used_at: at })
        .where('user_id', '=', use.userId)
        .where('code_hash', '=', use.codeHash)
        .where('used_at', 'is', null)
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    }
    case 'webauthn': {
      const r = await trx
        .updateTable('mfa_factors')
        .set({ sign_count: use.signCount, last_used_at: at })
        .where('id', '=', use.factorId)
        .where('status', '=', 'confirmed')
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    }
  }
}

/** Second factors, recovery codes, the second step of logins and WebAuthn challenges (SPEC §12). */
export function createMfaStore(
  ctx: StoreContext,
): Pick<
  Store,
  | 'listMfaFactors'
  | 'insertMfaFactor'
  | 'confirmMfaFactor'
  | 'deleteMfaFactor'
  | 'replaceRecoveryCodes'
  | 'listUnusedRecoveryCodes'
  | 'insertMfaToken'
  | 'findMfaToken'
  | 'completeMfaLogin'
  | 'insertWebauthnChallenge'
  | 'consumeWebauthnChallenge'
> {
  const { db, appendAudit } = ctx
  const { transaction } = ctx.dialect

  return {
    listMfaFactors: (userId) =>
      guard(async () => {
        const rows = await db
          .selectFrom('mfa_factors')
          .selectAll()
          .where('user_id', '=', userId)
          .orderBy('created_at')
          .orderBy('id')
          .execute()
        return rows.map(rowToFactor)
      }),

    insertMfaFactor: (f, audit, recoveryCodeHashes) =>
      transaction(async (trx) => {
        if (f.type === 'totp' && f.status === 'pending') {
          await trx
            .deleteFrom('mfa_factors')
            .where('user_id', '=', f.userId)
            .where('type', '=', 'totp')
            .where('status', '=', 'pending')
            .execute()
        }
        await trx
          .insertInto('mfa_factors')
          .values({
            id: f.id,
            user_id: f.userId,
            type: f.type,
            name: f.name,
            status: f.status,
            totp_secret: f.totpSecretSealed,
            totp_last_step: f.totpLastStep,
            credential_id: f.credentialId,
            public_key: f.publicKey,
            sign_count: f.signCount,
            transports: JSON.stringify(f.transports),
            created_at: toMillis(f.createdAt),
            confirmed_at: toMillisOrNull(f.confirmedAt),
            last_used_at: toMillisOrNull(f.lastUsedAt),
          })
          .execute()
        if (recoveryCodeHashes !== undefined) {
          await insertRecoveryCodes(trx, f.userId, recoveryCodeHashes, f.createdAt)
        }
        await appendAudit(trx, audit)
      }),

    confirmMfaFactor: (id, confirmation, audit) =>
      transaction(async (trx) => {
        const confirmed = await trx
          .updateTable('mfa_factors')
          .set({
            status: 'confirmed',
            confirmed_at: toMillis(confirmation.at),
            totp_last_step: confirmation.totpLastStep,
          })
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .returning('user_id')
          .executeTakeFirst()
        if (confirmed === undefined) return false
        if (confirmation.recoveryCodeHashes !== undefined) {
          await insertRecoveryCodes(
            trx,
            confirmed.user_id,
            confirmation.recoveryCodeHashes,
            confirmation.at,
          )
        }
        await appendAudit(trx, audit)
        return true
      }),

    deleteMfaFactor: (userId, factorId, revokeWhenLast, audit) =>
      transaction(async (trx) => {
        const deleted = await trx
          .deleteFrom('mfa_factors')
          .where('id', '=', factorId)
          .where('user_id', '=', userId)
          .returning('status')
          .executeTakeFirst()
        if (deleted === undefined) return undefined
        const left = await trx
          .selectFrom('mfa_factors')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where('user_id', '=', userId)
          .where('status', '=', 'confirmed')
          .executeTakeFirstOrThrow()
        const remaining = Number(left.n)
        // A pending enrolment never turned MFA on, so dropping it turns nothing off.
        if (remaining === 0 && deleted.status === 'confirmed') {
          // Without a factor MFA is off: its recovery codes go, and so do the other sessions.
          await insertRecoveryCodes(trx, userId, [], revokeWhenLast.at)
          await revokeLiveSessions(trx, userId, revokeWhenLast.at, revokeWhenLast.keepSessionId)
        }
        await appendAudit(trx, audit)
        return remaining
      }),

    replaceRecoveryCodes: (userId, codeHashes, revoke, audit) =>
      transaction(async (trx) => {
        await insertRecoveryCodes(trx, userId, codeHashes, revoke.at)
        await revokeLiveSessions(trx, userId, revoke.at, revoke.keepSessionId)
        await appendAudit(trx, audit)
      }),

    listUnusedRecoveryCodes: (userId) =>
      guard(async () => {
        const rows = await db
          .selectFrom('mfa_recovery_codes')
          .select('code_hash')
          .where('user_id', '=', userId)
          .where('used_at', 'is', null)
          .execute()
        return rows.map((r) => r.code_hash)
      }),

    insertMfaToken: (t) =>
      guard(async () => {
        await db
          .insertInto('mfa_tokens')
          .values({
            token_hash: t.tokenHash,
            user_id: t.userId,
            ip: t.ip,
            created_at: toMillis(t.createdAt),
            expires_at: toMillis(t.expiresAt),
            consumed_at: toMillisOrNull(t.consumedAt),
            webauthn_challenge: t.webauthnChallenge,
          })
          .execute()
      }),

    findMfaToken: (tokenHash) =>
      guard(async () => {
        const row = await db
          .selectFrom('mfa_tokens')
          .selectAll()
          .where('token_hash', '=', tokenHash)
          .executeTakeFirst()
        return row === undefined ? undefined : rowToToken(row)
      }),

    completeMfaLogin: async (tokenHash, use, session, userPatch, audit) => {
      try {
        return await transaction(async (trx) => {
          const at = toMillis(session.createdAt)
          // One statement decides which of two parallel verifies with one token wins.
          const consumed = await trx
            .updateTable('mfa_tokens')
            .set({ consumed_at: at })
            .where('token_hash', '=', tokenHash)
            .where('user_id', '=', session.userId)
            .where('consumed_at', 'is', null)
            .where('expires_at', '>', at)
            .executeTakeFirst()
          if (Number(consumed.numUpdatedRows) !== 1) throw new NotApplied('token_used')
          if (!(await applyFactorUse(trx, use, at))) throw new NotApplied('factor_used')
          await writeLogin(ctx, trx, session, userPatch)
          await appendAudit(trx, audit)
          return 'completed' as const
        })
      } catch (error) {
        if (error instanceof NotApplied) return error.outcome
        throw error
      }
    },

    insertWebauthnChallenge: (challengeHash, userId, expiresAt) =>
      guard(async () => {
        await db
          .insertInto('webauthn_challenges')
          .values({
            challenge_hash: challengeHash,
            user_id: userId,
            expires_at: toMillis(expiresAt),
            consumed_at: null,
          })
          .execute()
      }),

    consumeWebauthnChallenge: (challengeHash, userId, now) =>
      guard(async () => {
        const ms = toMillis(now)
        const r = await db
          .updateTable('webauthn_challenges')
          .set({ consumed_at: ms })
          .where('challenge_hash', '=', challengeHash)
          .where('user_id', '=', userId)
          .where('consumed_at', 'is', null)
          .where('expires_at', '>', ms)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) === 1
      }),
  }
}
