import { benchConfig, startUsersCore } from './bench/lib/users-core.js'
const server = await startUsersCore({ config: benchConfig(), users: 1_000_000 })
const { url, adminApiKey } = server.info as { url: string; adminApiKey: string }
for (const path of ['/users?search=a&limit=50', '/users?search=ab&limit=50', '/users?search=zz&limit=50', '/users?search=abc&limit=50', '/users?search=00012&limit=50', '/users?role=user&active=false&limit=50', '/users?search=user&role=admin&limit=50', '/audit?limit=50', '/users?offset=999000&limit=50']) {
  const times: number[] = []
  let total = ''
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    const r = await fetch(url + path, { headers: { 'x-api-key': adminApiKey } })
    await r.text()
    times.push(performance.now() - t)
    total = `${r.status} total=${r.headers.get('x-total-count')}`
  }
  console.log(path, total, times.map((t) => t.toFixed(0)).join(' / '), 'ms')
}
await server.stop()
