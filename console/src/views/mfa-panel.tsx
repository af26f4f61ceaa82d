import { startRegistration } from '@simplewebauthn/browser'
import { useState } from 'preact/hooks'
import { send } from '../api.js'
import { QrCode } from '../qr.js'
import { Button, ErrorBox, Field, isMissingRoute, Panel, Time, useAction, useLoad } from '../ui.js'

/** One enrolled factor as the console shows it; SPEC §12 leaves the list's shape open. */
interface Factor {
  id: string | undefined
  type: string
  name: string | undefined
  createdAt: string | undefined
}

type Raw = Record<string, unknown>

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function toFactor(raw: Raw, fallbackType: string): Factor {
  return {
    id: str(raw.id) ?? str(raw.credential_id),
    type: str(raw.type) ?? str(raw.method) ?? str(raw.kind) ?? fallbackType,
    name: str(raw.name) ?? str(raw.label),
    createdAt: str(raw.created_at),
  }
}

/** `GET /users/:id/mfa` read tolerantly: an array of factors, `{factors}`, or one key per kind. */
export function factorsOf(body: unknown): Factor[] {
  if (Array.isArray(body)) return body.map((f) => toFactor(f as Raw, 'factor'))
  if (!body || typeof body !== 'object') return []
  const b = body as Raw
  if (Array.isArray(b.factors)) return b.factors.map((f) => toFactor(f as Raw, 'factor'))
  const factors: Factor[] = []
  if (b.totp && typeof b.totp === 'object') factors.push(toFactor(b.totp as Raw, 'totp'))
  else if (b.totp === true) factors.push(toFactor({}, 'totp'))
  const passkeys = b.webauthn ?? b.passkeys
  if (Array.isArray(passkeys))
    for (const p of passkeys) factors.push(toFactor(p as Raw, 'webauthn'))
  return factors
}

function removePath(userId: string, factor: Factor): string {
  if (factor.type === 'totp' || factor.id === undefined) {
    return `/users/${userId}/mfa/${factor.type}`
  }
  return `/users/${userId}/mfa/${factor.type}/${factor.id}`
}

function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <div class="shown-once" role="status">
      <p>
        <strong>Recovery codes</strong> — each works once; store them now, they are shown only once.
      </p>
      <ul class="codes" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
    </div>
  )
}

/**
 * A user's second factors (SPEC §12). Everyone sees and removes; only the user themselves
 * enrols (TOTP with a locally drawn QR code, a passkey) and renews recovery codes.
 */
export function MfaPanel({ userId, isSelf }: { userId: string; isSelf: boolean }) {
  const list = useLoad(() => send<unknown>('GET', `/users/${userId}/mfa`), userId)
  const action = useAction()
  const [pending, setPending] = useState<{ secret: string; otpauth_uri: string }>()
  const [code, setCode] = useState('')
  const [codes, setCodes] = useState<string[]>()

  if (isMissingRoute(list.error)) {
    return (
      <Panel title="Two-factor authentication" id="mfa">
        <p class="muted">This server does not offer multi-factor authentication.</p>
      </Panel>
    )
  }
  const factors = factorsOf(list.data)
  const hasTotp = factors.some((f) => f.type === 'totp')

  const startTotp = () =>
    action.run(async () => {
      setCodes(undefined)
      setPending(await send('POST', `/users/${userId}/mfa/totp`))
    })
  const confirmTotp = (e: Event) => {
    e.preventDefault()
    return action.run(async () => {
      const result = await send<{ recovery_codes?: string[] }>(
        'POST',
        `/users/${userId}/mfa/totp/confirm`,
        { code: code.trim() },
      )
      setPending(undefined)
      setCode('')
      if (result?.recovery_codes) setCodes(result.recovery_codes)
      list.reload()
    })
  }
  const addPasskey = () =>
    action.run(async () => {
      const options = await send<Raw>('POST', `/users/${userId}/mfa/webauthn/options`, {})
      const optionsJSON = (options.options ?? options.publicKey ?? options) as Parameters<
        typeof startRegistration
      >[0]['optionsJSON']
      const response = await startRegistration({ optionsJSON })
      const result = await send<{ recovery_codes?: string[] }>(
        'POST',
        `/users/${userId}/mfa/webauthn`,
        { response },
      )
      if (result?.recovery_codes) setCodes(result.recovery_codes)
      list.reload()
    })
  const renewCodes = () =>
    action.run(async () => {
      const result = await send<{ recovery_codes: string[] }>(
        'POST',
        `/users/${userId}/mfa/recovery-codes`,
        {},
      )
      setCodes(result.recovery_codes)
    })
  const remove = (factor: Factor) =>
    action.run(async () => {
      await send('DELETE', removePath(userId, factor))
      list.reload()
    })

  return (
    <Panel title="Two-factor authentication" id="mfa">
      <ErrorBox error={list.error ?? action.error} />
      {factors.length === 0 && list.data !== undefined ? (
        <p class="muted">No second factor enrolled.</p>
      ) : null}
      <ul class="factors">
        {factors.map((f) => (
          <li key={`${f.type}-${f.id}`} data-factor={f.type}>
            <strong>{f.type === 'totp' ? 'Authenticator app (TOTP)' : 'Passkey'}</strong>{' '}
            {f.name ? <span>{f.name}</span> : null} <Time at={f.createdAt} />{' '}
            <Button kind="danger" busy={action.busy} onClick={() => remove(f)}>
              Remove
            </Button>
          </li>
        ))}
      </ul>
      {codes ? <RecoveryCodes codes={codes} /> : null}
      {isSelf && pending ? (
        <form class="totp-enrol" onSubmit={confirmTotp} aria-label="Confirm the authenticator app">
          <p>Scan this code with an authenticator app, then enter the 6-digit code it shows.</p>
          <QrCode text={pending.otpauth_uri} label="QR code of the TOTP secret" />
          <p>
            Or type the secret: <code data-testid="totp-secret">{pending.secret}</code>
          </p>
          <Field
            label="Code from the app"
            value={code}
            onInput={setCode}
            inputMode="numeric"
            autocomplete="one-time-code"
            name="totp-code"
            required
          />
          <Button type="submit" kind="primary" busy={action.busy}>
            Confirm
          </Button>
        </form>
      ) : null}
      {isSelf ? (
        <div class="actions">
          {hasTotp || pending ? null : (
            <Button onClick={startTotp} busy={action.busy}>
              Set up an authenticator app
            </Button>
          )}
          <Button onClick={addPasskey} busy={action.busy}>
            Add a passkey
          </Button>
          {factors.length > 0 ? (
            <Button onClick={renewCodes} busy={action.busy}>
              New recovery codes
            </Button>
          ) : null}
        </div>
      ) : null}
    </Panel>
  )
}
