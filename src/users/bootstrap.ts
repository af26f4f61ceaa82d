import type { CoreDeps } from '../core-deps.js'
import { BASE62 } from '../lib/random.js'
import { checkPasswordPolicy, normalizePassword } from '../passwords/policy.js'
import { newUserRecord } from './new-user-record.js'

/** The first admin on an empty database, with a generated password unless one is configured (SPEC §7). */
export function createAdminBootstrap(deps: CoreDeps) {
  const { store, hasher, random, config } = deps

  async function bootstrapAdmin(): Promise<
    { created: false } | { created: true; username: string; generatedPassword?: string }
  > {
    if ((await store.countUsers()) > 0) return { created: false }
    const username = config.bootstrap.admin_username
    const configured = config.bootstrap.admin_password
    let password = configured
    if (password === undefined) {
      password = generatePassword()
    } else if (checkPasswordPolicy(password, config.password, username).length > 0) {
      deps.logger.warn(
        { rules: checkPasswordPolicy(password, config.password, username) },
        'bootstrap.admin_password does not meet the password policy; change it after first login',
      )
    }
    const record = newUserRecord(
      deps,
      { username, roles: ['admin'] },
      await hasher.hash(normalizePassword(password)),
    )
    const created = await store.insertFirstUser(record, [
      deps.audit.build('user.created', record.id, undefined, { username, source: 'bootstrap' }),
    ])
    if (!created) return { created: false }
    return configured === undefined
      ? { created: true, username, generatedPassword: password }
      : { created: true, username }
  }

  function generatePassword(): string {
    // 24 base62 characters ≈ 143 bits; retried until it satisfies the configured policy.
    for (;;) {
      const candidate = random.string(Math.max(24, config.password.min_length), BASE62)
      const withSpecial = config.password.require_special ? `${candidate}-` : candidate
      if (
        checkPasswordPolicy(withSpecial, config.password, config.bootstrap.admin_username)
          .length === 0
      ) {
        return withSpecial
      }
    }
  }

  return bootstrapAdmin
}
