// A reference between the bare hello-world and users-core: the same framework users-core uses
// (Hono on @hono/node-server) with no middleware, so a gap can be split into framework and app.
import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { serveAndAnnounce } from './lib/child.js'

const app = new Hono()
app.get('/', (c) => c.text('hello world'))
const server = createAdaptorServer({ fetch: app.fetch })
serveAndAnnounce(server as Server)
