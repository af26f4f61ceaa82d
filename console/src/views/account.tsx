import { useState } from 'preact/hooks'
import { endSession, send, type User } from '../api.js'
import { Button, ErrorBox, Field, Panel, useAction } from '../ui.js'
import { ApiKeysPanel } from './api-keys-panel.js'
import { MfaPanel } from './mfa-panel.js'
import { PasswordForm } from './password-form.js'
import { SessionsPanel } from './sessions-panel.js'
import { SipPanel } from './sip-panel.js'

function Profile({ user, onSaved }: { user: User; onSaved: (user: User) => void }) {
  const [email, setEmail] = useState(user.email ?? '')
  const [displayName, setDisplayName] = useState(user.display_name ?? '')
  const action = useAction()
  const save = (e: Event) => {
    e.preventDefault()
    return action.run(async () => {
      onSaved(
        await send<User>('PUT', `/users/${user.id}`, {
          email: email.trim() === '' ? null : email.trim(),
          display_name: displayName.trim() === '' ? null : displayName,
        }),
      )
    })
  }
  return (
    <form class="inline-form" onSubmit={save} aria-label="Profile">
      <Field label="Email" type="email" value={email} onInput={setEmail} name="email" />
      <Field
        label="Display name"
        value={displayName}
        onInput={setDisplayName}
        name="display-name"
      />
      <Button type="submit" busy={action.busy}>
        Save profile
      </Button>
      <ErrorBox error={action.error} />
    </form>
  )
}

/** What every signed-in user manages for themselves (SPEC §13). */
export function Account(props: {
  user: User
  onUserChanged: (user: User) => void
  onPasswordChanged: () => void
}) {
  const { user } = props
  return (
    <div class="view">
      <h1>
        My account <span class="muted">{user.username}</span>
      </h1>
      <p class="muted">Roles: {user.roles.join(', ') || 'none'}</p>
      <Panel title="Profile" id="profile">
        <Profile user={user} onSaved={props.onUserChanged} />
      </Panel>
      <Panel title="Password" id="password">
        <p class="muted">Changing the password ends every session, this one too.</p>
        <PasswordForm
          userId={user.id}
          isReset={false}
          onDone={() => {
            endSession()
            props.onPasswordChanged()
          }}
        />
      </Panel>
      <MfaPanel userId={user.id} isSelf={true} />
      <SessionsPanel userId={user.id} />
      <ApiKeysPanel userId={user.id} />
      <SipPanel userId={user.id} />
    </div>
  )
}
