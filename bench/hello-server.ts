// The physical ceiling of an HTTP request on this machine: a bare node:http hello-world, in its
// own process, loaded by the same tool as users-core.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { announce } from './lib/child.js'

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('hello world')
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  announce({ url: `http://127.0.0.1:${port}`, pid: process.pid })
})
process.once('SIGTERM', () => {
  server.close(() => process.exit(0))
  server.closeAllConnections()
})
