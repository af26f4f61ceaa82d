import type { CoreDeps } from '../core-deps.js'
import type { AuditEventInput, SessionRecord, UserRecord } from '../domain/records.js'
import type { MfaCompletion, MfaFactorUse, UserPatch } from '../domain/store.js'
import { UsersError } from '../errors.js'
import { sha256Hex } from '../lib/constant-time.js'
import { createMfaChallenger } from '../mfa/mfa-challenge.js'
import { normalizePassword } from '../passwords/policy.js'
import { computeScope } from '../tokens/scopes.js'
import type { Principal, RequestContext, SessionInfo, TokenResponse } from '../types.js'
import { toUser } from '../users/user-mapper.js'
import { USERNAME_PATTERN } from '../users/validation.js'
import { decideRefresh, isLive, nextFormerHashes } from './refresh-decision.js'
import {
  createRefreshToken,
  openRefreshToken,
  parseRefreshToken,
  sealRefreshToken,
} from './refresh-token.js'

/** Longest password input worth hashing; longer ones fail fast (cheap check before hashing). */
const MAX_PASSWORD_INPUT = 4096

/** Login, refresh rotation with reuse detection, logout and session listing (SPEC §4.3). */
export function createSessionService(deps: CoreDeps) {
  const { store, hasher, keyring, clock, random, config, lockout } = deps
  const invalidToken = () => new UsersError('INVALID_TOKEN')
  const mfa = createMfaChallenger(deps)

  /** Starts signing the session's access token (on libuv's pool); see `tokenResponse`. */
  function signAccessToken(user: UserRecord, session: SessionRecord) {
    const scope = computeScope(config.jwt, user.roles)
    return keyring
      .issueAccessToken({
        user: { id: user.id, username: user.username, email: user.email, roles: user.roles },
        sessionId: session.id,
        scope,
        roles: user.roles,
        amr: session.amr,
      })
      .then((access) => ({ access, scope }))
  }

  /** The token response, with an access token signed now or already being signed. */
  async function tokenResponse(
    user: UserRecord,
    session: SessionRecord,
    refreshToken: string,
    signing = signAccessToken(user, session),
  ): Promise<TokenResponse> {
    const { access, scope } = await signing
    deps.emit({ type: 'token_issued', kind: 'access' })
    const now = clock.now().getTime()
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: config.jwt.access_ttl_seconds,
      refreshToken,
      refreshExpiresIn: Math.max(0, Math.floor((session.expiresAt.getTime() - now) / 1000)),
      scope,
      user: toUser(user),
    }
  }

  async function loginFailed(
    username: string,
    user: UserRecord | undefined,
    reason: string,
    ctx: RequestContext | undefined,
  ): Promise<never> {
    // A name no account can have is not counted: nothing is stored under a key it chose.
    const lock =
      reason === 'malformed_username'
        ? { locked: false, retryAfterSeconds: 0 }
        : await lockout.recordFailure(username, ctx?.ip)
    // A username that names no account is often a password typed into the wrong field, and no
    // secret may reach an audit row (SPEC §8): only an existing account's username is recorded.
    const named = user ? { username: user.username } : {}
    const events = [
      deps.audit.build('user.login.failed', user?.id ?? null, ctx, { ...named, reason }),
    ]
    if (lock.locked) {
      events.push(
        deps.audit.build('user.locked', user?.id ?? null, ctx, {
          ...named,
          lockout_seconds: lock.retryAfterSeconds,
        }),
      )
    }
    await store.appendAudit(events)
    deps.emit({ type: 'login', outcome: lock.locked ? 'locked' : 'failed' })
    if (lock.locked) {
      throw new UsersError('ACCOUNT_LOCKED', { retryAfterSeconds: lock.retryAfterSeconds })
    }
    throw new UsersError('INVALID_CREDENTIALS')
  }

  async function login(
    username: string,
    password: string,
    ctx?: RequestContext,
  ): Promise<TokenResponse> {
    if (typeof username !== 'string' || typeof password !== 'string') {
      throw new UsersError('VALIDATION_ERROR', { message: 'username and password are required' })
    }
    // A full hash queue is answered before any other work: under a flood, refusals stay cheap.
    hasher.assertCapacity()
    // A name outside SPEC §3 matches no account; it costs no hash (its timing tells nothing the
    // sender does not know) and touches no lockout state.
    if (!USERNAME_PATTERN.test(username)) {
      return loginFailed(username, undefined, 'malformed_username', ctx)
    }
    // Lockout first: while locked no hash is computed, even for the right password.
    try {
      await lockout.assertNotLocked(username, ctx?.ip)
    } catch (error) {
      deps.emit({ type: 'login', outcome: 'locked' })
      throw error
    }
    if (password.length > MAX_PASSWORD_INPUT) {
      return loginFailed(username, undefined, 'malformed', ctx)
    }
    const user = await store.findUserByUsername(username)
    const normalized = normalizePassword(password)
    if (!user) {
      // Same work as a real verification, so unknown users cannot be told apart by timing.
      await hasher.verifyDummy(normalized)
      return loginFailed(username, undefined, 'unknown_user', ctx)
    }
    const ok = await hasher.verify(user.passwordHash, normalized)
    if (!ok) return loginFailed(username, user, 'wrong_password', ctx)
    if (!user.active) return loginFailed(username, user, 'inactive', ctx)

    // Imported or old-parameter hashes are upgraded now that we hold the password (SPEC §3).
    const upgradedHash = hasher.needsRehash(user.passwordHash)
      ? await hasher.hash(normalized)
      : undefined
    const factors = await mfa.confirmedFactors(user.id)
    if (factors.length > 0) {
      // Half a login: the lockout count stands until the second factor, so a known password
      // cannot reset it between guesses of a code.
      if (upgradedHash !== undefined) {
        await store.updateUser(
          user.id,
          { passwordHash: upgradedHash, updatedAt: user.updatedAt },
          {},
          [],
        )
      }
      return mfa.requireSecondFactor(user, factors, ctx)
    }
    await lockout.recordSuccess(username, ctx?.ip)
    const now = clock.now()
    const { session, refreshToken } = newSession(user, now, ctx, [])
    const patch: UserPatch = { lastLogin: now, updatedAt: user.updatedAt }
    if (upgradedHash !== undefined) patch.passwordHash = upgradedHash
    await store.recordLogin(session, patch, [
      deps.audit.build('user.login.succeeded', user.id, ctx, {
        session_id: session.id,
        ...(patch.passwordHash ? { hash_upgraded: true } : {}),
      }),
    ])
    deps.emit({ type: 'login', outcome: 'succeeded' })
    deps.emit({ type: 'token_issued', kind: 'refresh' })
    return tokenResponse({ ...user, lastLogin: now }, session, refreshToken)
  }

  /** A new session of `user` opened at `now`, with its first refresh token. */
  function newSession(
    user: UserRecord,
    now: Date,
    ctx: RequestContext | undefined,
    amr: string[],
  ): { session: SessionRecord; refreshToken: string } {
    const sessionId = random.uuid()
    const refreshToken = createRefreshToken(sessionId, random)
    const session: SessionRecord = {
      id: sessionId,
      userId: user.id,
      refreshHash: sha256Hex(refreshToken),
      previousRefreshHash: null,
      rotatedAt: null,
      sealedRefreshToken: null,
      formerRefreshHashes: '',
      generation: 0,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + config.jwt.refresh_ttl_seconds * 1000),
      revokedAt: null,
      ip: ctx?.ip ?? null,
      userAgent: ctx?.userAgent?.slice(0, 512) ?? null,
      amr,
    }
    return { session, refreshToken }
  }

  /**
   * The end of an MFA login: consumes the `mfa_token` and the factor's one-time use and opens
   * the session carrying `amr`, all at once; what did not apply, when something did not.
   * `audit` gets the new session's id.
   */
  async function completeMfaLogin(
    user: UserRecord,
    tokenHash: string,
    use: MfaFactorUse,
    amr: string[],
    audit: (sessionId: string) => AuditEventInput[],
    ctx: RequestContext | undefined,
  ): Promise<TokenResponse | Exclude<MfaCompletion, 'completed'>> {
    const now = clock.now()
    const { session, refreshToken } = newSession(user, now, ctx, amr)
    const outcome = await store.completeMfaLogin(
      tokenHash,
      use,
      session,
      { lastLogin: now, updatedAt: user.updatedAt },
      audit(session.id),
    )
    if (outcome !== 'completed') return outcome
    await lockout.recordSuccess(user.username, ctx?.ip)
    deps.emit({ type: 'login', outcome: 'succeeded' })
    deps.emit({ type: 'token_issued', kind: 'refresh' })
    return tokenResponse({ ...user, lastLogin: now }, session, refreshToken)
  }

  function activeUser(user: UserRecord): UserRecord {
    if (!user.active) throw invalidToken()
    return user
  }

  async function refresh(refreshToken: string, ctx?: RequestContext): Promise<TokenResponse> {
    const parsed = parseRefreshToken(refreshToken)
    if (!parsed) {
      deps.emit({ type: 'refresh', outcome: 'rejected' })
      throw invalidToken()
    }
    const hash = sha256Hex(refreshToken)
    // Two passes at most: a lost compare-and-swap means a concurrent refresh rotated first,
    // and the second pass then answers from the grace window.
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = clock.now()
      const found = await store.findSessionWithUser(parsed.sessionId)
      const decision = found
        ? decideRefresh(found.session, hash, now, config.jwt.refresh_reuse_grace_seconds)
        : 'reject'
      if (!found || decision === 'reject') {
        // Not a token this session issued (or remembers): nothing is written, nothing revoked.
        deps.emit({ type: 'refresh', outcome: 'rejected' })
        throw invalidToken()
      }
      const { session } = found
      if (decision === 'rotate') {
        const user = activeUser(found.user)
        const next = createRefreshToken(session.id, random)
        // Signed while the rotation commits, so a grant waits for one turn of a busy event loop,
        // not two; the token leaves only with a committed rotation, otherwise it is discarded.
        const signing = signAccessToken(user, session)
        signing.catch(() => undefined)
        const rotated = await store.rotateSession(
          session.id,
          hash,
          {
            refreshHash: sha256Hex(next),
            previousRefreshHash: hash,
            rotatedAt: now,
            sealedRefreshToken: sealRefreshToken(next, refreshToken, session.id, random),
            formerRefreshHashes: nextFormerHashes(session.formerRefreshHashes, hash),
            generation: session.generation + 1,
            lastUsedAt: now,
          },
          [deps.audit.build('token.refreshed', user.id, ctx, { session_id: session.id })],
        )
        if (!rotated) continue
        deps.emit({ type: 'refresh', outcome: 'rotated' })
        deps.emit({ type: 'token_issued', kind: 'refresh' })
        return tokenResponse(user, session, next, signing)
      }
      if (decision === 'grace' && session.sealedRefreshToken !== null) {
        // Two tabs refreshing at once: the later one gets the same new token (SPEC §4.3).
        const current = openRefreshToken(session.sealedRefreshToken, refreshToken, session.id)
        if (current !== undefined) {
          const user = activeUser(found.user)
          await store.touchSession(session.id, now)
          deps.emit({ type: 'refresh', outcome: 'grace' })
          return tokenResponse(user, session, current)
        }
      }
      // A former token of this session, neither current nor inside the grace: a replay.
      await store.revokeSession(session.id, now, [
        deps.audit.build('token.reuse_detected', session.userId, ctx, {
          session_id: session.id,
        }),
        deps.audit.build('session.revoked', session.userId, ctx, {
          session_id: session.id,
          reason: 'refresh_token_reuse',
        }),
      ])
      deps.emit({ type: 'refresh', outcome: 'reuse_detected' })
      throw invalidToken()
    }
    deps.emit({ type: 'refresh', outcome: 'rejected' })
    throw invalidToken()
  }

  async function logout(
    principal: Principal,
    options: { allSessions?: boolean } = {},
    ctx?: RequestContext,
  ): Promise<void> {
    const now = clock.now()
    const userId = principal.user.id
    const event = deps.audit.build('user.logout', userId, ctx, {
      all_sessions: options.allSessions === true,
      ...(principal.sessionId ? { session_id: principal.sessionId } : {}),
    })
    if (options.allSessions) {
      await store.revokeUserSessions(userId, now, [event])
    } else if (principal.sessionId) {
      await store.revokeSession(principal.sessionId, now, [event])
    }
    if (principal.jti && principal.expiresAt && !principal.sessionId) {
      // Tokens without a session (API-key tokens) are revoked through the jti deny-list.
      await store.denyAccessToken(
        principal.jti,
        principal.expiresAt,
        options.allSessions ? [] : [event],
      )
    }
  }

  async function list(userId: string, currentSessionId?: string): Promise<SessionInfo[]> {
    const sessions = await store.listSessions(userId, clock.now())
    return sessions.map((s) => ({
      id: s.id,
      createdAt: s.createdAt,
      lastUsedAt: s.lastUsedAt,
      expiresAt: s.expiresAt,
      ip: s.ip,
      userAgent: s.userAgent,
      current: s.id === currentSessionId,
    }))
  }

  async function revoke(userId: string, sessionId: string, ctx?: RequestContext): Promise<void> {
    const session = await store.findSession(sessionId)
    if (!session || session.userId !== userId || !isLive(session, clock.now())) {
      throw new UsersError('NOT_FOUND', { message: 'No such session.' })
    }
    await store.revokeSession(sessionId, clock.now(), [
      deps.audit.build('session.revoked', userId, ctx, { session_id: sessionId }),
    ])
  }

  return { login, completeMfaLogin, refresh, logout, list, revoke, isLive }
}

/** The session service's shape. */
export type SessionService = ReturnType<typeof createSessionService>
