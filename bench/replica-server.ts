// A reference for the JWKS scenario: a bare node:http server that answers every request with the
// exact status line, headers and body users-core sent for `GET /auth/jwks.json` (given in
// BENCH_REPLICA as `{ headers: [name, value][], body }`). What it loses against the hello-world
// is the cost of the response itself; what users-core loses beyond it is users-core's own work.
import { createServer } from 'node:http'
import { serveAndAnnounce } from './lib/child.js'

const { headers, body } = JSON.parse(process.env.BENCH_REPLICA ?? '') as {
  headers: [string, string][]
  body: string
}
const flat = headers.flat()

const server = createServer((_req, res) => {
  res.writeHead(200, flat)
  res.end(body)
})
serveAndAnnounce(server)
