import { useState } from 'preact/hooks'
import { AUDIT_EVENT_TYPES } from '../../../src/domain/audit-event-types.js'
import { page, query } from '../api.js'
import { Button, ErrorBox, Field, Time, useLoad } from '../ui.js'

interface AuditEvent {
  id: string
  at: string
  type: string
  actor: { type: string; id: string | null }
  user_id: string | null
  ip: string | null
  user_agent: string | null
  request_id: string | null
  details: unknown
}

const PAGE_SIZE = 25

// The filter also takes any other type typed in.
const EVENT_TYPES = AUDIT_EVENT_TYPES

/** A `datetime-local` value as RFC 3339 UTC, or nothing. */
function rfc3339(local: string): string | undefined {
  if (local === '') return undefined
  const date = new Date(local)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** Admin: the audit trail (SPEC §8), filtered by user, type and time, newest first. */
export function Audit() {
  const [userId, setUserId] = useState('')
  const [type, setType] = useState('')
  const [since, setSince] = useState('')
  const [until, setUntil] = useState('')
  const [applied, setApplied] = useState('')
  const [path, setPath] = useState<string | undefined>(undefined)
  const [previous, setPrevious] = useState<string[]>([])

  const first = `/audit-events${applied === '' ? `?limit=${PAGE_SIZE}` : `${applied}&limit=${PAGE_SIZE}`}`
  const current = path ?? first
  const list = useLoad(() => page<AuditEvent>(current), current)

  const filter = (e: Event) => {
    e.preventDefault()
    const q = query({
      user_id: userId.trim(),
      type: type.trim(),
      since: rfc3339(since),
      until: rfc3339(until),
    })
    setApplied(q)
    setPath(undefined)
    setPrevious([])
  }

  return (
    <div class="view">
      <h1>Audit trail</h1>
      <form class="filters" onSubmit={filter} aria-label="Filter events">
        <Field label="User id" value={userId} onInput={setUserId} name="user_id" />
        <label class="field">
          <span>Type</span>
          <input
            name="type"
            list="event-types"
            value={type}
            onInput={(e) => setType((e.currentTarget as HTMLInputElement).value)}
          />
          <datalist id="event-types">
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <Field label="Since" type="datetime-local" value={since} onInput={setSince} name="since" />
        <Field label="Until" type="datetime-local" value={until} onInput={setUntil} name="until" />
        <Button type="submit">Filter</Button>
      </form>
      <ErrorBox error={list.error} />
      <p class="muted" data-testid="audit-total">
        {list.data ? `${list.data.total} events` : '…'}
      </p>
      <div class="table-wrap">
        <table aria-busy={list.loading ? 'true' : 'false'}>
          <thead>
            <tr>
              <th>When</th>
              <th>Type</th>
              <th class="wide">Actor</th>
              <th>User</th>
              <th class="wide">Address</th>
              <th class="wide">Request id</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.items ?? []).map((e) => (
              <tr key={e.id} data-type={e.type}>
                <td>
                  <Time at={e.at} />
                </td>
                <td>
                  <code class="nowrap">{e.type}</code>
                </td>
                <td class="wide">
                  {e.actor.type}
                  {e.actor.id ? (
                    <div class="muted id">
                      <code>{e.actor.id}</code>
                    </div>
                  ) : null}
                </td>
                <td>{e.user_id ? <a href={`#/users/${e.user_id}`}>{e.user_id}</a> : '—'}</td>
                <td class="wide">{e.ip ?? '—'}</td>
                <td class="wide">
                  <code>{e.request_id ?? '—'}</code>
                </td>
                <td>
                  {e.details && Object.keys(e.details as object).length > 0 ? (
                    <code class="details">{JSON.stringify(e.details)}</code>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages">
        <Button
          onClick={() => {
            setPath(previous[previous.length - 1])
            setPrevious((p) => p.slice(0, -1))
          }}
          disabled={previous.length === 0}
        >
          Newer
        </Button>
        <Button
          onClick={() => {
            if (!list.data?.next) return
            setPrevious((p) => [...p, current])
            setPath(list.data.next)
          }}
          disabled={!list.data?.next}
        >
          Older
        </Button>
      </nav>
    </div>
  )
}
