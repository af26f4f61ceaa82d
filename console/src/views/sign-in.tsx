import { startAuthentication } from '@simplewebauthn/browser'
import { useState } from 'preact/hooks'
import { ApiError, send, startSession, type TokenResponse } from '../api.js'
import { Button, ErrorBox, Field, useAction } from '../ui.js'

/** SPEC §12: `401 MFA_REQUIRED` details. */
interface MfaChallenge {
  mfa_token: string
  methods: string[]
  expires_in: number
  /** Request options for `navigator.credentials.get()`, when `methods` has `webauthn`. */
  webauthn?: unknown
}

const METHOD_LABEL: Record<string, string> = {
  totp: 'Authenticator app',
  webauthn: 'Passkey',
  recovery_code: 'Recovery code',
}

type Json = Record<string, unknown>

/** The challenge of `MFA_REQUIRED`; without a list of methods, the code-based ones are offered. */
function challengeOf(details: unknown): MfaChallenge {
  const d = (details ?? {}) as Partial<MfaChallenge>
  return {
    mfa_token: typeof d.mfa_token === 'string' ? d.mfa_token : '',
    methods: Array.isArray(d.methods) ? d.methods : ['totp', 'recovery_code'],
    expires_in: typeof d.expires_in === 'number' ? d.expires_in : 300,
    ...(d.webauthn === undefined ? {} : { webauthn: d.webauthn }),
  }
}

function SecondFactor({ challenge, restart }: { challenge: MfaChallenge; restart: () => void }) {
  const methods = challenge.methods.filter((m) => m in METHOD_LABEL)
  const [method, setMethod] = useState(methods[0] ?? 'totp')
  const [code, setCode] = useState('')
  const action = useAction()

  const verify = (body: Json) =>
    action.run(async () => {
      startSession(
        await send<TokenResponse>('POST', '/auth/mfa/verify', {
          mfa_token: challenge.mfa_token,
          method,
          ...body,
        }),
      )
    })
  const usePasskey = () =>
    action.run(async () => {
      if (!challenge.webauthn) throw new Error('The server sent no passkey challenge.')
      const optionsJSON = challenge.webauthn as Parameters<
        typeof startAuthentication
      >[0]['optionsJSON']
      const assertion = await startAuthentication({ optionsJSON })
      startSession(
        await send<TokenResponse>('POST', '/auth/mfa/verify', {
          mfa_token: challenge.mfa_token,
          method: 'webauthn',
          assertion,
        }),
      )
    })
  const submit = (e: Event) => {
    e.preventDefault()
    return method === 'webauthn' ? usePasskey() : verify({ code: code.trim() })
  }

  return (
    <form class="card" onSubmit={submit} aria-label="Second factor">
      <h1>Second factor</h1>
      {methods.length > 1 ? (
        <div class="tabs" role="radiogroup" aria-label="Method">
          {methods.map((m) => (
            <label key={m} class="check">
              <input
                type="radio"
                name="mfa-method"
                value={m}
                checked={method === m}
                onChange={() => setMethod(m)}
              />
              {METHOD_LABEL[m]}
            </label>
          ))}
        </div>
      ) : null}
      {method === 'webauthn' ? (
        <Button kind="primary" busy={action.busy} onClick={usePasskey}>
          Use a passkey
        </Button>
      ) : (
        <>
          <Field
            label={method === 'totp' ? 'Code from your authenticator app' : 'Recovery code'}
            value={code}
            onInput={setCode}
            name="mfa-code"
            autocomplete="one-time-code"
            inputMode={method === 'totp' ? 'numeric' : 'text'}
            required
          />
          <Button type="submit" kind="primary" busy={action.busy}>
            Verify
          </Button>
        </>
      )}
      <ErrorBox error={action.error} />
      <Button onClick={restart}>Start over</Button>
    </form>
  )
}

/** Sign-in: username and password, then the second factor when the account has one. */
export function SignIn({ notice }: { notice: string | undefined }) {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [challenge, setChallenge] = useState<MfaChallenge>()
  const action = useAction()

  if (challenge) {
    return <SecondFactor challenge={challenge} restart={() => setChallenge(undefined)} />
  }

  const submit = (e: Event) => {
    e.preventDefault()
    return action.run(async () => {
      try {
        startSession(await send<TokenResponse>('POST', '/auth/login', { username, password }))
      } catch (err) {
        if (err instanceof ApiError && err.code === 'MFA_REQUIRED') {
          setPassword('')
          setChallenge(challengeOf(err.details))
          return
        }
        throw err
      }
    })
  }

  return (
    <form class="card" onSubmit={submit} aria-label="Sign in">
      <h1>Sign in</h1>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <Field
        label="Username"
        value={username}
        onInput={setUsername}
        name="username"
        autocomplete="username"
        required
      />
      <Field
        label="Password"
        type="password"
        value={password}
        onInput={setPassword}
        name="password"
        autocomplete="current-password"
        required
      />
      <Button type="submit" kind="primary" busy={action.busy}>
        Sign in
      </Button>
      <ErrorBox error={action.error} />
    </form>
  )
}
