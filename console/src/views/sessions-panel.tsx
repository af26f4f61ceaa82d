import { send } from '../api.js'
import { Button, ErrorBox, Panel, Time, useAction, useLoad } from '../ui.js'

interface Session {
  id: string
  created_at: string
  last_used_at: string | null
  expires_at: string
  ip: string | null
  user_agent: string | null
  current: boolean
}

/** A user's sessions (SPEC §6.2): end one, or every one but the caller's own. */
export function SessionsPanel({ userId }: { userId: string }) {
  const list = useLoad(() => send<Session[]>('GET', `/users/${userId}/sessions`), userId)
  const action = useAction()
  const sessions = list.data ?? []
  const others = sessions.filter((s) => !s.current)

  const end = (ids: string[]) =>
    action.run(async () => {
      for (const id of ids) await send('DELETE', `/users/${userId}/sessions/${id}`)
      list.reload()
    })

  return (
    <Panel title="Sessions" id="sessions">
      <ErrorBox error={list.error ?? action.error} />
      {list.loading && !list.data ? <p class="muted">Loading…</p> : null}
      {sessions.length === 0 && list.data ? <p class="muted">No active sessions.</p> : null}
      {sessions.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Started</th>
                <th class="wide">Last used</th>
                <th>Address</th>
                <th class="wide">Client</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id} data-session={s.id}>
                  <td>
                    <Time at={s.created_at} />
                    {s.current ? <span class="badge">this session</span> : null}
                  </td>
                  <td class="wide">
                    <Time at={s.last_used_at} />
                  </td>
                  <td>{s.ip ?? '—'}</td>
                  <td class="ua wide">{s.user_agent ?? '—'}</td>
                  <td>
                    {s.current ? null : (
                      <Button
                        kind="danger"
                        busy={action.busy}
                        onClick={() => end([s.id])}
                        label={`End session from ${s.ip ?? 'an unknown address'}, ${s.user_agent ?? 'unknown client'}`}
                      >
                        End session
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {others.length > 1 ? (
        <Button kind="danger" busy={action.busy} onClick={() => end(others.map((s) => s.id))}>
          End all other sessions
        </Button>
      ) : null}
    </Panel>
  )
}
