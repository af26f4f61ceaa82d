import { useEffect, useState } from 'preact/hooks'
import { send, type User } from '../api.js'
import { Button, ErrorBox, Field, Panel, Time, useAction, useLoad } from '../ui.js'
import { ApiKeysPanel } from './api-keys-panel.js'
import { MfaPanel } from './mfa-panel.js'
import { PasswordForm } from './password-form.js'
import { SessionsPanel } from './sessions-panel.js'
import { SipPanel } from './sip-panel.js'
import { parseRoles } from './users.js'

const LAST_ADMIN_RULE =
  'The last active admin can be neither deleted, deactivated nor demoted: the server answers 409 CONFLICT.'

function Edit({ user, onSaved }: { user: User; onSaved: (user: User) => void }) {
  const [email, setEmail] = useState(user.email ?? '')
  const [displayName, setDisplayName] = useState(user.display_name ?? '')
  const [roles, setRoles] = useState(user.roles.join(', '))
  const action = useAction()
  useEffect(() => {
    setEmail(user.email ?? '')
    setDisplayName(user.display_name ?? '')
    setRoles(user.roles.join(', '))
  }, [user])

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
  const saveRoles = (e: Event) => {
    e.preventDefault()
    return action.run(async () => {
      onSaved(await send<User>('POST', `/users/${user.id}/roles`, { roles: parseRoles(roles) }))
    })
  }
  const setActive = (active: boolean) =>
    action.run(async () => {
      onSaved(await send<User>('PUT', `/users/${user.id}`, { active }))
    })

  return (
    <>
      <form class="inline-form" onSubmit={save} aria-label="Edit user">
        <Field label="Email" type="email" value={email} onInput={setEmail} name="email" />
        <Field
          label="Display name"
          value={displayName}
          onInput={setDisplayName}
          name="display-name"
        />
        <Button type="submit" busy={action.busy}>
          Save
        </Button>
      </form>
      <form class="inline-form" onSubmit={saveRoles} aria-label="Roles">
        <Field label="Roles (comma-separated)" value={roles} onInput={setRoles} name="roles" />
        <Button type="submit" busy={action.busy}>
          Save roles
        </Button>
      </form>
      <div class="actions">
        {user.active ? (
          <Button kind="danger" busy={action.busy} onClick={() => setActive(false)}>
            Deactivate
          </Button>
        ) : (
          <Button busy={action.busy} onClick={() => setActive(true)}>
            Activate
          </Button>
        )}
      </div>
      <ErrorBox error={action.error} />
    </>
  )
}

function Delete({ user, onDeleted }: { user: User; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false)
  const action = useAction()
  const remove = () =>
    action.run(async () => {
      await send('DELETE', `/users/${user.id}`)
      onDeleted()
    })
  return (
    <Panel title="Delete" id="delete">
      {user.roles.includes('admin') ? <p class="notice">{LAST_ADMIN_RULE}</p> : null}
      {confirming ? (
        <div class="actions">
          <span>
            Delete <strong>{user.username}</strong> for good, with their sessions and keys?
          </span>
          <Button kind="danger" busy={action.busy} onClick={remove}>
            Yes, delete
          </Button>
          <Button onClick={() => setConfirming(false)}>Cancel</Button>
        </div>
      ) : (
        <Button kind="danger" onClick={() => setConfirming(true)}>
          Delete user
        </Button>
      )}
      <ErrorBox error={action.error} />
    </Panel>
  )
}

/** Admin: one user, everything about them. */
export function UserDetail(props: { id: string; meId: string; back: () => void }) {
  const loaded = useLoad(() => send<User>('GET', `/users/${props.id}`), props.id)
  const [user, setUser] = useState<User | undefined>(undefined)
  const [resetDone, setResetDone] = useState(false)
  useEffect(() => setUser(loaded.data), [loaded.data])

  if (!user) {
    return (
      <div class="view">
        <ErrorBox error={loaded.error} />
        {loaded.loading ? <p class="muted">Loading…</p> : null}
      </div>
    )
  }
  return (
    <div class="view">
      <p>
        <a href="#/users">← Users</a>
      </p>
      <h1>
        {user.username}{' '}
        {user.active ? (
          <span class="badge ok">active</span>
        ) : (
          <span class="badge off">inactive</span>
        )}
      </h1>
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{user.id}</code>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time at={user.created_at} />
        </dd>
        <dt>Last login</dt>
        <dd>
          <Time at={user.last_login} />
        </dd>
      </dl>
      <Panel title="Account" id="account">
        <Edit user={user} onSaved={setUser} />
      </Panel>
      <Panel title="Reset password" id="reset-password">
        {resetDone ? (
          <p class="notice" role="status">
            Password reset; every session of {user.username} has ended.
          </p>
        ) : null}
        <PasswordForm userId={user.id} isReset={true} onDone={() => setResetDone(true)} />
      </Panel>
      <SessionsPanel userId={user.id} />
      <ApiKeysPanel userId={user.id} />
      <SipPanel userId={user.id} />
      <MfaPanel userId={user.id} isSelf={user.id === props.meId} />
      <Delete user={user} onDeleted={props.back} />
    </div>
  )
}
