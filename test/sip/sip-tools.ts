import { spawn, spawnSync } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The shipped registrar configuration under test. */
export const KAMAILIO_CFG = fileURLToPath(
  new URL('../../examples/kamailio/kamailio.cfg', import.meta.url),
)

// Debian puts kamailio in /usr/sbin, which a non-root PATH often lacks.
const KAMAILIO = existsSync('/usr/sbin/kamailio') ? '/usr/sbin/kamailio' : 'kamailio'

/** Why the SIP tools cannot run here, or undefined when kamailio and sipp are installed. */
export function missingSipTools(): string | undefined {
  for (const [tool, args] of [
    [KAMAILIO, ['-v']],
    ['sipp', ['-v']],
  ] as const) {
    const probe = spawnSync(tool, args, { encoding: 'utf8' })
    if (probe.error)
      return `${tool} is not installed (apt-get install kamailio kamailio-utils-modules kamailio-json-modules sip-tester)`
  }
  return undefined
}

/** A free UDP port on loopback (closed again before it is handed out). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

/** One SIP request over UDP, answered with the reply's text (or undefined after `timeoutMs`). */
export async function sipRequest(port: number, message: string, timeoutMs = 500) {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  try {
    return await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs)
      socket.once('message', (data) => {
        clearTimeout(timer)
        resolve(data.toString('utf8'))
      })
      socket.send(
        message.replaceAll('{local_port}', String(socket.address().port)),
        port,
        '127.0.0.1',
      )
    })
  } finally {
    socket.close()
  }
}

/** An OPTIONS request, to see the registrar answer. */
export const OPTIONS_PING = [
  'OPTIONS sip:127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK-ping',
  'From: <sip:ping@127.0.0.1>;tag=1',
  'To: <sip:ping@127.0.0.1>',
  'Call-ID: ping',
  'CSeq: 1 OPTIONS',
  'Max-Forwards: 70',
  'Content-Length: 0',
  '',
  '',
].join('\r\n')

/** A running Kamailio with its own runtime directory, on loopback. */
export interface KamailioProcess {
  port: number
  stderr(): string
  stop(): Promise<void>
}

/** Starts Kamailio in the foreground (`-DD -E`) with `defines` (`-A NAME=VALUE`). */
export async function startKamailio(defines: Record<string, string>): Promise<KamailioProcess> {
  const port = await freeUdpPort()
  const runDir = mkdtempSync(join(tmpdir(), 'users-core-kamailio-'))
  const args = ['-DD', '-E', '-f', KAMAILIO_CFG, '-Y', runDir, '-P', join(runDir, 'kamailio.pid')]
  for (const [name, value] of Object.entries({ SIP_LISTEN: `udp:127.0.0.1:${port}`, ...defines })) {
    args.push('-A', `${name}=${value}`)
  }
  const child = spawn(KAMAILIO, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    err += chunk
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kamailio exited:\n${err}`)
    if ((await sipRequest(port, OPTIONS_PING, 200)) !== undefined)
      return { port, stderr: () => err, stop }
  }
  await stop()
  throw new Error(`kamailio did not answer on udp ${port}:\n${err}`)
}

/** What a sipp run ended with: its exit code (0 = every call went as the scenario says) and output. */
export interface SippResult {
  code: number | null
  output: string
}

/** Runs one call of `scenario` (sipp XML) against the registrar. */
export async function runSipp(
  port: number,
  scenario: string,
  args: string[] = [],
): Promise<SippResult> {
  const dir = mkdtempSync(join(tmpdir(), 'users-core-sipp-'))
  const file = join(dir, 'scenario.xml')
  writeFileSync(file, scenario)
  const child = spawn(
    'sipp',
    [
      `127.0.0.1:${port}`,
      '-sf',
      file,
      '-m',
      '1',
      '-i',
      '127.0.0.1',
      '-nostdin',
      '-timeout',
      '15s',
      '-trace_err',
      ...args,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (c: string) => {
    output += c
  })
  child.stderr.on('data', (c: string) => {
    output += c
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  return { code, output }
}

const REGISTER_HEAD = (cseq: number) =>
  [
    'REGISTER sip:[remote_ip]:[remote_port] SIP/2.0',
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    'From: <sip:[service]@[remote_ip]>;tag=[call_number]',
    'To: <sip:[service]@[remote_ip]>',
    'Call-ID: [call_id]',
    `CSeq: ${cseq} REGISTER`,
    'Contact: <sip:[service]@[local_ip]:[local_port]>',
    'Max-Forwards: 70',
    'Expires: 60',
  ].join('\n')

const send = (lines: string) =>
  `<send retrans="500"><![CDATA[\n${lines}\nContent-Length: 0\n\n]]></send>`

/**
 * The shipped `examples/kamailio/register.xml` (credentials from `-s`, `-au`, `-ap`): challenged
 * with 401, answered, then `finalStatus` expected instead of its 200.
 */
export function digestRegisterScenario(finalStatus: number): string {
  const shipped = readFileSync(
    new URL('../../examples/kamailio/register.xml', import.meta.url),
    'utf8',
  )
  return shipped.replace('<recv response="200"', `<recv response="${finalStatus}"`)
}

/** A REGISTER with `Authorization: Bearer [token]` (`-key token ...`) expecting `finalStatus`; a 401 must carry a Bearer challenge. */
export function bearerRegisterScenario(finalStatus: number): string {
  const check =
    finalStatus === 401
      ? `<action><ereg regexp="^ *Bearer .*error=.invalid_token" search_in="hdr" header="WWW-Authenticate:" check_it="true" assign_to="challenge"/></action>`
      : ''
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bearer register">
${send(`${REGISTER_HEAD(1)}\nAuthorization: Bearer [token]`)}
<recv response="${finalStatus}" timeout="5000">${check}</recv>
${finalStatus === 401 ? '<Reference variables="challenge"/>' : ''}
</scenario>
`
}
