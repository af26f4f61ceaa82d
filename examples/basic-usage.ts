// users-core as a library (SPEC §9): create a user, log in, refresh, change the password (which
// ends every old session) and log in with the new one. Run: npx tsx examples/basic-usage.ts
//
// Argon2 runs at the spec's defaults unless USERS_CORE_PASSWORD_ARGON2_* say otherwise.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { init, isUsersError } from '../src/index.js'
import { exampleConfig } from './shared/local-users-core.js'

const dir = mkdtempSync(join(tmpdir(), 'users-core-basic-'))
// A real SQLite file, so the example shows what `sqlite://users.db` would hold.
const config = exampleConfig({ database_url: `sqlite://${join(dir, 'users.db')}` })
const core = await init(config)

try {
  const alice = await core.createUser({
    username: 'alice',
    password: 'Sunflower-Meadow-7',
    email: 'alice@example.com',
    displayName: 'Alice Example',
  })
  console.log(`1. created user ${alice.username} (id ${alice.id}, roles ${alice.roles.join(',')})`)

  const login = await core.authenticatePassword('alice', 'Sunflower-Meadow-7')
  console.log(
    `2. logged in: ${login.tokenType} access token (${login.expiresIn} s), scope "${login.scope}"`,
  )
  const me = await core.authenticateAccessToken(login.accessToken)
  console.log(`   the access token authenticates ${me.user.username} (session ${me.sessionId})`)

  const refreshed = await core.refreshToken(login.refreshToken)
  console.log(
    `3. refreshed: new refresh token ${refreshed.refreshToken === login.refreshToken ? 'NOT ' : ''}rotated`,
  )

  await core.users.changePassword(alice.id, 'Sunflower-Meadow-7', 'Lighthouse-Harbor-42')
  console.log('4. changed password')
  try {
    await core.refreshToken(refreshed.refreshToken)
    throw new Error('the old refresh token still works after a password change')
  } catch (error) {
    if (!isUsersError(error)) throw error
    console.log(`   old refresh token rejected: ${error.code}`)
  }
  try {
    await core.authenticateAccessToken(refreshed.accessToken)
    throw new Error('the old access token still works after a password change')
  } catch (error) {
    if (!isUsersError(error)) throw error
    console.log(`   old access token rejected: ${error.code}`)
  }
  try {
    await core.authenticatePassword('alice', 'Sunflower-Meadow-7')
    throw new Error('the old password still works')
  } catch (error) {
    if (!isUsersError(error)) throw error
    console.log(`   old password rejected: ${error.code}`)
  }

  const again = await core.authenticatePassword('ALICE', 'Lighthouse-Harbor-42')
  console.log(`5. logged in with the new password as ${again.user.username}`)
  console.log(`   last login ${again.user.lastLogin?.toISOString()}`)
  console.log('done')
} finally {
  await core.close()
  rmSync(dir, { recursive: true, force: true })
}
