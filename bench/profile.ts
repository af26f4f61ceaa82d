// A tuning aid, not a scenario: loads one users-core route while the server runs with
// --cpu-prof, then prints where its main thread spent the time (self and inclusive). With
// --on-cpu it samples the main thread with perf instead (only while it runs: see
// lib/on-cpu.ts) and prints each thread's share of a core, perf's split by object and its top
// symbols.
//   npx tsx bench/profile.ts jwks|me-key|me-bearer|refresh|login|login-flood [seconds] [algorithm] [--on-cpu]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type LoadSpec, runLoad } from './lib/load.js'
import { describeThreadCpu, recordOnCpu, reportOnCpu, threadCpuMs } from './lib/on-cpu.js'
import {
  benchConfig,
  login,
  loginMany,
  loginRequests,
  startUsersCore,
  USER_PAD,
  USER_PREFIX,
} from './lib/users-core.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const onCpu = process.argv.includes('--on-cpu')
const [target = 'jwks', secondsArg = '8', algorithmArg = 'RS256'] = process.argv
  .slice(2)
  .filter((arg) => arg !== '--on-cpu')
const seconds = Number(secondsArg)
const algorithm = algorithmArg as 'RS256' | 'ES256' | 'EdDSA'
const dir = mkdtempSync(join(tmpdir(), 'users-core-prof-'))
const server = await startUsersCore(
  { config: benchConfig({ jwt: { algorithm } }), users: 1000 },
  onCpu
    ? // Names for JIT-compiled code in /tmp/perf-<pid>.map; V8's own log kept out of the repo.
      ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${join(dir, 'v8.log')}`]
    : ['--cpu-prof', `--cpu-prof-dir=${dir}`],
)
const { url, apiKey = '' } = server.info
const base = { url, connections: 16, durationSeconds: seconds, warmupSeconds: 1 }
let spec: LoadSpec
switch (target) {
  case 'me-key':
    spec = {
      ...base,
      method: 'GET',
      path: '/users/me',
      headers: { 'x-api-key': apiKey },
      mode: { kind: 'fixed' },
    }
    break
  case 'me-bearer': {
    const { access_token } = await login(url, `${USER_PREFIX}${'3'.padStart(USER_PAD, '0')}`)
    spec = {
      ...base,
      method: 'GET',
      path: '/users/me',
      headers: { authorization: `Bearer ${access_token}` },
      mode: { kind: 'fixed' },
    }
    break
  }
  case 'refresh': {
    const sessions = await loginMany(url, 32)
    spec = {
      ...base,
      method: 'POST',
      path: '/auth/refresh',
      mode: { kind: 'refresh', tokens: sessions.map((s) => s.refresh_token) },
    }
    break
  }
  case 'login':
  case 'login-flood':
    spec = {
      ...base,
      connections: target === 'login' ? 8 : 200,
      ...loginRequests(1000),
    }
    break
  default:
    spec = { ...base, method: 'GET', path: '/auth/jwks.json', mode: { kind: 'fixed' } }
}
if (onCpu) {
  await profileOnCpu(spec)
  process.exit(0)
}
const load = await runLoad(spec)
await server.stop()
console.log(
  `${target}: ${load.requestsPerSecond.toFixed(0)} req/s, statuses ${JSON.stringify(load.statusCounts)}`,
)

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.includes('.0.'))
if (!file) throw new Error(`no main-thread profile in ${dir}`)
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map<number, number>()
for (const [i, id] of profile.samples.entries()) {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
const label = (n: ProfileNode) => {
  const url = n.callFrame.url
    .replace(/^.*\/node_modules\//, '')
    .replace(/^file:\/\/\/work\/main\//, '')
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`
}
const selfByLabel = new Map<string, number>()
for (const [id, us] of selfUs) {
  const node = byId.get(id)
  if (node) selfByLabel.set(label(node), (selfByLabel.get(label(node)) ?? 0) + us)
}
// Inclusive time: a label counted once per sample even when it recurses.
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const inclusive = new Map<string, number>()
for (const [id, us] of selfUs) {
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const node = byId.get(at)
    if (!node) break
    const l = label(node)
    if (!seen.has(l)) {
      seen.add(l)
      inclusive.set(l, (inclusive.get(l) ?? 0) + us)
    }
  }
}
const top = (m: Map<string, number>, n: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([l, us]) => `  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${l}`)
    .join('\n')
console.log(`profile ${join(dir, file)} (${(total / 1e6).toFixed(1)} s sampled)`)
console.log(`self time:\n${top(selfByLabel, 25)}`)
console.log(
  `inclusive time (our code only):\n${top(new Map([...inclusive].filter(([l]) => / (src|dist)\//.test(l))), 25)}`,
)

/** Samples the main thread on-CPU in the middle of the load, then prints what perf saw. */
async function profileOnCpu(spec: LoadSpec): Promise<void> {
  const sampled = Math.max(1, seconds - 2)
  const loading = runLoad(spec)
  // The load worker's start and its warm-up second, then a second more.
  await new Promise((resolve) => setTimeout(resolve, 1000 * ((spec.warmupSeconds ?? 0) + 1.5)))
  const file = join(dir, 'perf.data')
  const before = threadCpuMs(server.pid)
  const started = performance.now()
  recordOnCpu(server.pid, sampled, file)
  const threads = describeThreadCpu(before, threadCpuMs(server.pid), performance.now() - started)
  const load = await loading
  await server.stop()
  console.log(
    `${target}: ${load.requestsPerSecond.toFixed(0)} req/s, statuses ${JSON.stringify(load.statusCounts)}`,
  )
  console.log(`threads over the ${sampled} s sampled:\n  ${threads.join('\n  ')}`)
  console.log(`main thread on-CPU by object (${file}):\n${reportOnCpu(file, 'dso', 10).join('\n')}`)
  console.log(`top symbols:\n${reportOnCpu(file, 'symbol', 30).join('\n')}`)
  rmSync(`/tmp/perf-${server.pid}.map`, { force: true })
}
