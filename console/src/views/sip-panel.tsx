import { useState } from 'preact/hooks'
import { send } from '../api.js'
import {
  Button,
  ErrorBox,
  Field,
  isMissingRoute,
  Panel,
  ShownOnce,
  Time,
  useAction,
  useLoad,
} from '../ui.js'

interface SipCredential {
  id: string
  user_id: string
  label: string
  sip_username: string
  realm: string
  created_at: string
  last_used_at: string | null
  revoked?: boolean
}

/** A user's SIP credentials (SPEC §11): create (the secret shown once), list, revoke. */
export function SipPanel({ userId }: { userId: string }) {
  const list = useLoad(
    () => send<SipCredential[]>('GET', `/users/${userId}/sip-credentials`),
    userId,
  )
  const action = useAction()
  const [label, setLabel] = useState('')
  const [sipUsername, setSipUsername] = useState('')
  const [created, setCreated] = useState<{ secret: string; credential: SipCredential }>()

  const create = (e: Event) => {
    e.preventDefault()
    return action.run(async () => {
      const result = await send<{ credential: SipCredential; secret: string }>(
        'POST',
        `/users/${userId}/sip-credentials`,
        { label, ...(sipUsername ? { sip_username: sipUsername } : {}) },
      )
      setCreated(result)
      setLabel('')
      setSipUsername('')
      list.reload()
    })
  }

  const revoke = (id: string) =>
    action.run(async () => {
      await send('DELETE', `/sip-credentials/${id}`)
      list.reload()
    })

  const credentials = (list.data ?? []).filter((c) => !c.revoked)
  if (isMissingRoute(list.error)) {
    return (
      <Panel title="SIP credentials" id="sip-credentials">
        <p class="muted">This server does not offer SIP credentials.</p>
      </Panel>
    )
  }
  return (
    <Panel title="SIP credentials" id="sip-credentials">
      <ErrorBox error={list.error ?? action.error} />
      {created ? (
        <ShownOnce
          label={`SIP secret of ${created.credential.sip_username} (realm ${created.credential.realm})`}
          value={created.secret}
          testId="new-sip-secret"
        />
      ) : null}
      {credentials.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Label</th>
                <th>SIP username</th>
                <th class="wide">Realm</th>
                <th class="wide">Last used</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {credentials.map((c) => (
                <tr key={c.id} data-sip={c.sip_username}>
                  <td>{c.label}</td>
                  <td>
                    <code>{c.sip_username}</code>
                  </td>
                  <td class="wide">{c.realm}</td>
                  <td class="wide">
                    <Time at={c.last_used_at} />
                  </td>
                  <td>
                    <Button
                      kind="danger"
                      busy={action.busy}
                      onClick={() => revoke(c.id)}
                      label={`Revoke SIP credential ${c.sip_username}`}
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
        <p class="muted">No SIP credentials.</p>
      ) : null}
      <form class="inline-form" onSubmit={create} aria-label="Create a SIP credential">
        <Field label="Device label" value={label} onInput={setLabel} required name="sip-label" />
        <Field
          label="SIP username (optional)"
          value={sipUsername}
          onInput={setSipUsername}
          name="sip-username"
        />
        <Button type="submit" kind="primary" busy={action.busy}>
          Create credential
        </Button>
      </form>
    </Panel>
  )
}
