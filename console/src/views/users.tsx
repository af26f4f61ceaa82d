import { useState } from 'preact/hooks'
import { page, query, send, type User } from '../api.js'
import { Button, ErrorBox, Field, Panel, Time, useAction, useLoad } from '../ui.js'

const PAGE_SIZE = 20

/** Roles typed as a comma-separated list. */
export function parseRoles(text: string): string[] {
  return text
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '')
}

function CreateUser({ onCreated }: { onCreated: (user: User) => void }) {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [email, setEmail] = useState('')
  const [displayName, setDisplayName] = useState('')
  const [roles, setRoles] = useState('user')
  const action = useAction()
  const submit = (e: Event) => {
    e.preventDefault()
    return action.run(async () => {
      const user = await send<User>('POST', '/users', {
        username,
        password,
        ...(email.trim() ? { email: email.trim() } : {}),
        ...(displayName.trim() ? { display_name: displayName } : {}),
        roles: parseRoles(roles),
      })
      onCreated(user)
    })
  }
  return (
    <form class="inline-form" onSubmit={submit} aria-label="Create a user">
      <Field label="Username" value={username} onInput={setUsername} name="new-username" required />
      <Field
        label="Password"
        type="password"
        value={password}
        onInput={setPassword}
        name="new-user-password"
        autocomplete="new-password"
        required
      />
      <Field label="Email" type="email" value={email} onInput={setEmail} name="new-email" />
      <Field
        label="Display name"
        value={displayName}
        onInput={setDisplayName}
        name="new-display-name"
      />
      <Field label="Roles (comma-separated)" value={roles} onInput={setRoles} name="new-roles" />
      <Button type="submit" kind="primary" busy={action.busy}>
        Create user
      </Button>
      <ErrorBox error={action.error} />
    </form>
  )
}

/** Admin: search, filter and page through users (SPEC §6.2 `Link`, `X-Total-Count`), create one. */
export function Users({ open }: { open: (id: string) => void }) {
  const [search, setSearch] = useState('')
  const [active, setActive] = useState('')
  const [role, setRole] = useState('')
  const [applied, setApplied] = useState({ search: '', active: '', role: '' })
  const [path, setPath] = useState<string | undefined>(undefined)
  const [offsets, setOffsets] = useState<string[]>([])
  const [creating, setCreating] = useState(false)

  const first = `/users${query({ ...applied, limit: PAGE_SIZE })}`
  const current = path ?? first
  const list = useLoad(() => page<User>(current), current)

  const filter = (e: Event) => {
    e.preventDefault()
    setApplied({ search: search.trim(), active, role: role.trim() })
    setPath(undefined)
    setOffsets([])
  }
  const next = () => {
    if (!list.data?.next) return
    setOffsets((o) => [...o, current])
    setPath(list.data.next)
  }
  const previous = () => {
    setPath(offsets[offsets.length - 1])
    setOffsets((o) => o.slice(0, -1))
  }
  const shownFrom = offsets.length * PAGE_SIZE

  return (
    <div class="view">
      <h1>Users</h1>
      <form class="filters" onSubmit={filter} aria-label="Find users">
        <Field label="Search" value={search} onInput={setSearch} name="search" />
        <label class="field">
          <span>Status</span>
          <select
            name="active"
            value={active}
            onChange={(e) => setActive((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">any</option>
            <option value="true">active</option>
            <option value="false">inactive</option>
          </select>
        </label>
        <Field label="Role" value={role} onInput={setRole} name="role" />
        <Button type="submit">Find</Button>
      </form>
      <div class="actions">
        <Button kind="primary" onClick={() => setCreating((c) => !c)}>
          {creating ? 'Close' : 'New user'}
        </Button>
      </div>
      {creating ? (
        <Panel title="New user">
          <CreateUser onCreated={(user) => open(user.id)} />
        </Panel>
      ) : null}
      <ErrorBox error={list.error} />
      <div class="table-wrap">
        <table aria-busy={list.loading ? 'true' : 'false'}>
          <thead>
            <tr>
              <th>Username</th>
              <th class="wide">Email</th>
              <th>Roles</th>
              <th>Status</th>
              <th class="wide">Last login</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.items ?? []).map((u) => (
              <tr key={u.id} data-user={u.username}>
                <td>
                  <a href={`#/users/${u.id}`}>{u.username}</a>
                  {u.display_name ? <div class="muted">{u.display_name}</div> : null}
                </td>
                <td class="wide">{u.email ?? '—'}</td>
                <td>{u.roles.join(', ')}</td>
                <td>
                  {u.active ? (
                    <span class="badge ok">active</span>
                  ) : (
                    <span class="badge off">inactive</span>
                  )}
                </td>
                <td class="wide">
                  <Time at={u.last_login} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages">
        <Button onClick={previous} disabled={offsets.length === 0}>
          Previous
        </Button>
        <span data-testid="page-info">
          {list.data
            ? list.data.items.length === 0
              ? `0 of ${list.data.total}`
              : `${shownFrom + 1}–${shownFrom + list.data.items.length} of ${list.data.total}`
            : '…'}
        </span>
        <Button onClick={next} disabled={!list.data?.next}>
          Next
        </Button>
      </nav>
    </div>
  )
}
