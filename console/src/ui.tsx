import type { ComponentChildren } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { ApiError } from './api.js'

// Small building blocks every view shares: errors from the envelope, busy buttons, loaders.

const RULE_TEXT: Record<string, string> = {
  min_length: 'too short',
  max_length: 'too long',
  uppercase: 'needs an uppercase letter',
  lowercase: 'needs a lowercase letter',
  numbers: 'needs a digit',
  special: 'needs a special character',
  common: 'is a commonly used password',
  contains_username: 'contains the username',
}

interface FieldProblem {
  field?: string
  path?: string
  message?: string
}

function Details({ details }: { details: unknown }) {
  if (details === undefined || details === null) return null
  const d = details as { rules?: unknown; fields?: unknown }
  if (Array.isArray(d.rules)) {
    return (
      <ul class="rules" data-testid="failed-rules">
        {(d.rules as string[]).map((rule) => (
          <li key={rule} data-rule={rule}>
            <code>{rule}</code> {RULE_TEXT[rule] ?? ''}
          </li>
        ))}
      </ul>
    )
  }
  if (Array.isArray(d.fields)) {
    return (
      <ul>
        {(d.fields as FieldProblem[]).map((f) => (
          <li key={`${f.field ?? f.path}`}>
            <code>{f.field ?? f.path ?? '(body)'}</code> {f.message}
          </li>
        ))}
      </ul>
    )
  }
  return <pre class="details">{JSON.stringify(details, null, 2)}</pre>
}

/** An error as the envelope gave it: code, message, details and the request id to quote. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null
  const e =
    error instanceof ApiError
      ? error
      : new ApiError(
          0,
          'CLIENT_ERROR',
          error instanceof Error ? error.message : String(error),
          undefined,
        )
  return (
    <div class="error" role="alert" data-code={e.code}>
      <strong>{e.code}</strong> {e.message}
      <Details details={e.details} />
      {e.requestId ? (
        <div class="request-id">
          request id <code>{e.requestId}</code>
        </div>
      ) : null}
    </div>
  )
}

/** A button that shows progress and cannot be pressed twice while its action runs. */
export function Button(props: {
  onClick?: () => void
  busy?: boolean
  type?: 'button' | 'submit'
  kind?: 'primary' | 'danger' | 'plain'
  disabled?: boolean
  children: ComponentChildren
  label?: string
}) {
  return (
    <button
      type={props.type ?? 'button'}
      class={`btn ${props.kind ?? 'plain'}`}
      onClick={props.onClick}
      disabled={props.disabled || props.busy}
      aria-busy={props.busy ? 'true' : 'false'}
      aria-label={props.label}
    >
      {props.busy ? <span class="spinner" aria-hidden="true" /> : null}
      {props.children}
    </button>
  )
}

/** Runs one user action at a time and keeps its error for display. */
export function useAction(): {
  busy: boolean
  error: unknown
  run: (action: () => Promise<void>) => Promise<void>
  clear: () => void
} {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true)
    setError(undefined)
    try {
      await action()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }, [])
  return { busy, error, run, clear: () => setError(undefined) }
}

/** Loads data when `key` changes; `reload` loads it again. */
export function useLoad<T>(
  load: () => Promise<T>,
  key: string,
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let live = true
    setLoading(true)
    load()
      .then((value) => {
        if (!live) return
        setData(value)
        setError(undefined)
      })
      .catch((err: unknown) => {
        if (live) setError(err)
      })
      .finally(() => {
        if (live) setLoading(false)
      })
    return () => {
      live = false
    }
  }, [key, tick])
  return { data, error, loading, reload: () => setTick((t) => t + 1) }
}

/** A labelled input bound to a string state. */
export function Field(props: {
  label: string
  value: string
  onInput: (value: string) => void
  type?: string
  name?: string
  autocomplete?: string
  required?: boolean
  placeholder?: string
  inputMode?: 'numeric' | 'text' | 'email'
}) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <input
        type={props.type ?? 'text'}
        name={props.name}
        value={props.value}
        autocomplete={props.autocomplete}
        required={props.required}
        placeholder={props.placeholder}
        inputMode={props.inputMode}
        onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
      />
    </label>
  )
}

/** A section with a heading. */
export function Panel(props: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="panel" aria-label={props.title} id={props.id}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  )
}

/** A timestamp in the reader's locale, or a dash. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>
}

/** A secret shown once, with a note that it will not be shown again. */
export function ShownOnce(props: { label: string; value: string; testId: string }) {
  return (
    <div class="shown-once" role="status">
      <p>
        <strong>{props.label}</strong> — copy it now: it is shown only once.
      </p>
      <code class="secret" data-testid={props.testId}>
        {props.value}
      </code>
    </div>
  )
}

/** A 404 on a list route: the server predates the feature (SIP credentials, MFA). */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404
}
