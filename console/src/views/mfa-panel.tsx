import { startRegistration } from '@simplewebauthn/browser'
import { useState } from 'preact/hooks'
import { send } from '../api.js'
import { QrCode } from '../qr.js'
import { Button, ErrorBox, Field, isMissingRoute, Panel, Time, useAction, useLoad } from '../ui.js'

/** One confirmed factor of `GET /users/:id/mfa` (no secret ever comes with it). */
interface Factor {
  id: string
  type: 'totp' | 'webauthn'
  name: string | null
  created_at: string
  last_used_at: string | null
}

/** `GET /users/:id/mfa`. */
interface MfaStatus {
  enabled: boolean
  factors: Factor[]
  recovery_codes_remaining: number
}

/** The answer of a confirmed TOTP or a registered passkey: codes only with the first factor. */
interface FactorConfirmation {
  recovery_codes: string[] | null
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
  const list = useLoad(() => send<MfaStatus>('GET', `/users/${userId}/mfa`), userId)
  const action = useAction()
  const [pending, setPending] = useState<{ secret: string; otpauth_uri: string }>()
  const [code, setCode] = useState('')
  const [codes, setCodes] = useState<string[]>()
  const [passkeyName, setPasskeyName] = useState('')

  if (isMissingRoute(list.error)) {
    return (
      <Panel title="Two-factor authentication" id="mfa">
        <p class="muted">This server does not offer multi-factor authentication.</p>
      </Panel>
    )
  }
  const factors = list.data?.factors ?? []
  const hasTotp = factors.some((f) => f.type === 'totp')

  const startTotp = () =>
    action.run(async () => {
      setCodes(undefined)
      setPending(await send('POST', `/users/${userId}/mfa/totp`))
    })
  const confirmTotp = (e: Event) => {
    e.preventDefault()
    return action.run(async () => {
      const result = await send<FactorConfirmation>('POST', `/users/${userId}/mfa/totp/confirm`, {
        code: code.trim(),
      })
      setPending(undefined)
      setCode('')
      if (result?.recovery_codes) setCodes(result.recovery_codes)
      list.reload()
    })
  }
  const addPasskey = () =>
    action.run(async () => {
      const optionsJSON = await send<Parameters<typeof startRegistration>[0]['optionsJSON']>(
        'POST',
        `/users/${userId}/mfa/webauthn/options`,
        {},
      )
      const response = await startRegistration({ optionsJSON })
      const result = await send<FactorConfirmation>('POST', `/users/${userId}/mfa/webauthn`, {
        response,
        ...(passkeyName.trim() ? { name: passkeyName.trim() } : {}),
      })
      setPasskeyName('')
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
      await send('DELETE', `/users/${userId}/mfa/factors/${factor.id}`)
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
          <li key={f.id} data-factor={f.type}>
            <strong>{f.type === 'totp' ? 'Authenticator app (TOTP)' : 'Passkey'}</strong>{' '}
            {f.name ? <span>{f.name}</span> : null} <Time at={f.created_at} />{' '}
            <Button
              kind="danger"
              busy={action.busy}
              onClick={() => remove(f)}
              label={`Remove ${f.type === 'totp' ? 'the authenticator app' : `passkey ${f.name ?? ''}`}`}
            >
              Remove
            </Button>
          </li>
        ))}
      </ul>
      {list.data?.enabled ? (
        <p class="muted" data-testid="recovery-remaining">
          {list.data.recovery_codes_remaining} recovery codes left.
        </p>
      ) : null}
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
          <Field
            label="Passkey name (optional)"
            value={passkeyName}
            onInput={setPasskeyName}
            name="passkey-name"
          />
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
