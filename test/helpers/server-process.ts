import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

/** Environment for a test server: cheap Argon2, quiet logs, loopback on any free port. */
export const SERVER_TEST_ENV: Readonly<Record<string, string>> = {
  USERS_CORE_PASSWORD_ARGON2_MEMORY_COST: '1024',
  USERS_CORE_PASSWORD_ARGON2_TIME_COST: '1',
  USERS_CORE_PASSWORD_ARGON2_PARALLELISM: '1',
  USERS_CORE_LOG_LEVEL: 'warn',
  USERS_CORE_JWT_ALGORITHM: 'ES256',
}

/** A `users-core serve` child process. */
export interface ServerProcess {
  url: string
  child: ChildProcessWithoutNullStreams
  /** Everything the process wrote to standard error so far. */
  stderr(): string
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>
}

/** Starts the real CLI `serve` on 127.0.0.1:0 with `env` and waits until it is listening. */
export async function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--bind', '127.0.0.1:0'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...SERVER_TEST_ENV,
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let err = ''
  child.stdout.resume()
  child.stderr.setEncoding('utf8')
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), timeoutMs)
    child.stderr.on('data', (chunk: string) => {
      err += chunk
      const match = /users-core listening on (\S+)/.exec(err)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening:\n${err}`))
    })
  })
  return {
    url,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}
