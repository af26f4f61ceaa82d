import type { HttpBindings } from '@hono/node-server'
import type { UsersError } from '../errors.js'
import type { Principal } from '../types.js'

/** What the middleware chain stores on a request, read by later middleware and the routes. */
export interface AppVariables {
  requestId: string
  /** The client's address (`client-address.ts`: the socket, or behind a trusted proxy its hop); null when unknown. */
  clientIp: string | null
  /** True when the request carried a credential (for `error="invalid_token"`). */
  credentialSent: boolean
  /** The authenticated caller, when a valid credential was sent. */
  principal: Principal | undefined
  /** Why the sent credential was refused; thrown by routes that need a caller. */
  authError: UsersError | undefined
  /** The raw credential (only for `POST /auth/api-key/token`); never logged. */
  credential: string | undefined
  /** The request body, read within `api.max_body_bytes`. */
  rawBody: Uint8Array | undefined
}

/** The Hono environment of the users-core app; bindings are absent under `app.request()`. */
export interface AppEnv {
  Bindings: Partial<HttpBindings>
  Variables: AppVariables
}
