import { useState } from 'preact/hooks'
import { send } from '../api.js'
import { Button, ErrorBox, useAction, useLoad } from '../ui.js'

interface Jwk {
  kid: string
  kty: string
  alg: string
  use?: string
  crv?: string
}

/**
 * Admin: the published signing keys (the JWKS of SPEC §4.2: current, next and retired keys) and
 * a rotation (`POST /admin/keys/rotate`, which answers the new JWKS).
 */
export function SigningKeys() {
  const jwks = useLoad(() => send<{ keys: Jwk[] }>('GET', '/auth/jwks.json'), 'jwks')
  const [rotated, setRotated] = useState<Jwk[] | undefined>(undefined)
  const [confirming, setConfirming] = useState(false)
  const action = useAction()
  const keys = rotated ?? jwks.data?.keys ?? []

  const rotate = () =>
    action.run(async () => {
      const result = await send<{ keys: Jwk[] }>('POST', '/admin/keys/rotate')
      setRotated(result.keys)
      setConfirming(false)
    })

  return (
    <div class="view">
      <h1>Signing keys</h1>
      <p class="muted">
        Validators fetch these from <code>/.well-known/jwks.json</code>. A new key is published
        before it signs, and a retired one stays until every token it signed has expired.
      </p>
      <ErrorBox error={jwks.error ?? action.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Key id (kid)</th>
              <th>Algorithm</th>
              <th>Type</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.kid} data-kid={k.kid}>
                <td>
                  <code>{k.kid}</code>
                </td>
                <td>{k.alg}</td>
                <td>
                  {k.kty}
                  {k.crv ? ` ${k.crv}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {confirming ? (
        <div class="actions">
          <span>Rotate now? The next key takes over signing; the current one is retired.</span>
          <Button kind="danger" busy={action.busy} onClick={rotate}>
            Yes, rotate
          </Button>
          <Button onClick={() => setConfirming(false)}>Cancel</Button>
        </div>
      ) : (
        <Button kind="primary" onClick={() => setConfirming(true)}>
          Rotate keys
        </Button>
      )}
    </div>
  )
}
