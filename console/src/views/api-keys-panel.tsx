import { useState } from 'preact/hooks'
import { send } from '../api.js'
import { Button, ErrorBox, Field, Panel, ShownOnce, Time, useAction, useLoad } from '../ui.js'

interface KeyInfo {
  id: string
  user_id: string
  name: string
  key_prefix: string
  permissions: string[]
  expires_at: string | null
  created_at: string
  last_used_at: string | null
}

// SPEC §5; `sip` (§11) is granted only by an admin, `admin` needs an admin owner.
const PERMISSIONS = ['read', 'write', 'delete', 'admin', 'sip', '*'] as const

/** A user's API keys: create (the key shown once), list, revoke. */
export function ApiKeysPanel({ userId }: { userId: string }) {
  const list = useLoad(() => send<KeyInfo[]>('GET', `/users/${userId}/api-keys`), userId)
  const action = useAction()
  const [name, setName] = useState('')
  const [permissions, setPermissions] = useState<string[]>(['read'])
  const [expires, setExpires] = useState('')
  const [created, setCreated] = useState<{ key: string; name: string } | undefined>(undefined)

  const toggle = (p: string) =>
    setPermissions((ps) => (ps.includes(p) ? ps.filter((x) => x !== p) : [...ps, p]))

  const create = (e: Event) => {
    e.preventDefault()
    return action.run(async () => {
      const body = {
        name,
        permissions,
        ...(expires ? { expires_at: new Date(expires).toISOString() } : {}),
      }
      const result = await send<{ key: string; key_info: KeyInfo }>(
        'POST',
        `/users/${userId}/api-keys`,
        body,
      )
      setCreated({ key: result.key, name: result.key_info.name })
      setName('')
      list.reload()
    })
  }

  const revoke = (id: string) =>
    action.run(async () => {
      await send('DELETE', `/api-keys/${id}`)
      list.reload()
    })

  return (
    <Panel title="API keys" id="api-keys">
      <ErrorBox error={list.error ?? action.error} />
      {created ? (
        <ShownOnce label={`API key “${created.name}”`} value={created.key} testId="new-api-key" />
      ) : null}
      {(list.data ?? []).length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Permissions</th>
                <th class="wide">Expires</th>
                <th class="wide">Last used</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(list.data ?? []).map((k) => (
                <tr key={k.id} data-key={k.name}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.key_prefix}…</code>
                  </td>
                  <td>{k.permissions.join(', ')}</td>
                  <td class="wide">
                    <Time at={k.expires_at} />
                  </td>
                  <td class="wide">
                    <Time at={k.last_used_at} />
                  </td>
                  <td>
                    <Button
                      kind="danger"
                      busy={action.busy}
                      onClick={() => revoke(k.id)}
                      label={`Revoke API key ${k.name}`}
                    >
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : list.data ? (
        <p class="muted">No API keys.</p>
      ) : null}
      <form class="inline-form" onSubmit={create} aria-label="Create an API key">
        <Field label="Key name" value={name} onInput={setName} required name="key-name" />
        <fieldset>
          <legend>Permissions</legend>
          {PERMISSIONS.map((p) => (
            <label key={p} class="check">
              <input
                type="checkbox"
                name={`perm-${p}`}
                checked={permissions.includes(p)}
                onChange={() => toggle(p)}
              />
              {p}
            </label>
          ))}
        </fieldset>
        <Field
          label="Expires (optional)"
          type="datetime-local"
          value={expires}
          onInput={setExpires}
        />
        <Button type="submit" kind="primary" busy={action.busy}>
          Create key
        </Button>
      </form>
    </Panel>
  )
}
