import { type JsonChild, startJsonChild } from './child.js'
import { type LoadResult, runLoad } from './load.js'

/** Starts the bare node:http hello-world in its own process. */
export function startHello(): Promise<JsonChild<{ url: string; pid: number }>> {
  return startJsonChild('bench/hello-server.ts')
}

/** Starts a bare Hono app on @hono/node-server (the framework users-core uses, no middleware). */
export function startHonoHello(): Promise<JsonChild<{ url: string; pid: number }>> {
  return startJsonChild('bench/hono-hello-server.ts')
}

/** Connections used for every "requests per second" comparison against hello-world. */
export const HTTP_CONNECTIONS = 16

/** `GET /` on the hello-world, loaded like the users-core routes it is compared with. */
export function loadHello(url: string, seconds: number): Promise<LoadResult> {
  return runLoad({
    url,
    method: 'GET',
    path: '/',
    mode: { kind: 'fixed' },
    connections: HTTP_CONNECTIONS,
    durationSeconds: seconds,
    warmupSeconds: 1,
  })
}
