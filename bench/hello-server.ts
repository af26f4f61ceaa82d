// The physical ceiling of an HTTP request on this machine: a bare node:http hello-world, in its
// own process, loaded by the same tool as users-core.
import { createServer } from 'node:http'
import { serveAndAnnounce } from './lib/child.js'

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('hello world')
})
serveAndAnnounce(server)
