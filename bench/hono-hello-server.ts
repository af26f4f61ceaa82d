// A reference between the bare hello-world and users-core: the same framework users-core uses
// (Hono on @hono/node-server) with no middleware, so a gap can be split into framework and app.
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { announce } from './lib/child.js'

const app = new Hono()
app.get('/', (c) => c.text('hello world'))
const server = createAdaptorServer({ fetch: app.fetch })
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  announce({ url: `http://127.0.0.1:${port}`, pid: process.pid })
})
process.once('SIGTERM', () => {
  server.close(() => process.exit(0))
  if ('closeAllConnections' in server) server.closeAllConnections()
})
