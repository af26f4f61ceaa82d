import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, writeSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: children run from here so `tsx` and the repo's packages resolve. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A child program that announced itself with one JSON line on fd 3. */
export interface JsonChild<T> {
  info: T
  pid: number
  /** SIGTERM, then SIGKILL after 15 s; resolves when it has exited. */
  stop(): Promise<void>
}

/**
 * Starts `node --import tsx <script>` and waits for the JSON it writes on file descriptor 3.
 * Its stdout goes to /dev/null so a server that logs every request pays the write but never
 * blocks on a pipe nobody reads; stderr is passed through.
 */
export async function startJsonChild<T>(
  script: string,
  env: Record<string, string> = {},
  timeoutMs = 600_000,
  nodeArgs: string[] = [],
): Promise<JsonChild<T>> {
  const args = [...nodeArgs, '--import', 'tsx', resolve(REPO_ROOT, script)]
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  })
  const info = await new Promise<T>((resolveInfo, reject) => {
    let buffered = ''
    const timer = setTimeout(() => reject(new Error(`${script}: no ready line`)), timeoutMs)
    const channel = child.stdio[3] as NodeJS.ReadableStream
    channel.setEncoding('utf8')
    channel.on('data', (chunk: string) => {
      buffered += chunk
      const nl = buffered.indexOf('\n')
      if (nl >= 0) {
        clearTimeout(timer)
        try {
          resolveInfo(JSON.parse(buffered.slice(0, nl)) as T)
        } catch (error) {
          reject(error)
        }
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code} before it was ready`))
    })
  })
  return { info, pid: child.pid ?? -1, stop: () => stopChild(child) }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.once('exit', () => {
      clearTimeout(kill)
      resolveStop()
    })
    child.kill('SIGTERM')
  })
}

/** Writes the ready line a parent started by {@link startJsonChild} waits for. */
export function announce(info: unknown): void {
  writeSync(3, `${JSON.stringify(info)}\n`)
}

/**
 * Serves a baseline HTTP server of the bench (hello-world, Hono, replica) on `127.0.0.1:0`,
 * announces its URL to the parent, and on SIGTERM closes it, its keep-alive connections too.
 */
export function serveAndAnnounce(server: Server): void {
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    announce({ url: `http://127.0.0.1:${port}`, pid: process.pid })
  })
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0))
    server.closeAllConnections()
  })
}

/** Resident set size and its high-water mark of a process, in MiB (Linux /proc). */
export function readRssMiB(pid: number): { rssMiB: number; hwmMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 }
}

/** Bytes a process has caused to be written to storage so far (Linux /proc/<pid>/io). */
export function readWriteBytes(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8')
  return Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? Number.NaN)
}
