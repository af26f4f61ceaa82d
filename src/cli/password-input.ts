import type { CliInput, CliIo } from './context.js'
import { CliError } from './exit-codes.js'

/** Where a command's password comes from, as given on its command line. */
export interface PasswordSource {
  password?: string
  passwordStdin?: boolean
}

/**
 * Resolves the password of `user create` / `user set-password`: `--password`, else
 * `--password-stdin` (everything on standard input minus one trailing newline), else an
 * echo-less prompt (asked twice) when standard input is a terminal; otherwise an error, since a
 * script must say where its password comes from.
 */
export async function readPassword(source: PasswordSource, io: CliIo): Promise<string> {
  if (source.password !== undefined && source.passwordStdin) {
    throw new CliError('use either --password or --password-stdin, not both')
  }
  if (source.password !== undefined) return source.password
  if (source.passwordStdin) {
    const text = await readAll(io.stdin)
    const password = text.replace(/\r?\n$/, '')
    if (password === '') throw new CliError('no password on standard input')
    return password
  }
  if (!io.stdin.isTTY || !io.stdin.setRawMode) {
    throw new CliError(
      'no password given: use --password-stdin or --password (or run on a terminal to be prompted)',
    )
  }
  const first = await promptHidden('Password: ', io)
  const second = await promptHidden('Repeat password: ', io)
  if (first !== second) throw new CliError('the passwords do not match')
  if (first === '') throw new CliError('the password is empty')
  return first
}

/** Reads a stream to its end as UTF-8. */
export async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of input) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads one line from a terminal in raw mode without echoing it. */
function promptHidden(prompt: string, io: CliIo): Promise<string> {
  const stdin = io.stdin as CliInput & { setRawMode: (mode: boolean) => unknown }
  io.stderr.write(prompt)
  return new Promise((resolve, reject) => {
    let value = ''
    const finish = (error?: Error) => {
      stdin.setRawMode(false)
      stdin.removeListener('data', onData)
      stdin.pause()
      io.stderr.write('\n')
      if (error) reject(error)
      else resolve(value)
    }
    const onData = (data: Buffer | string) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish()
        if (ch === '\u0003') return finish(new CliError('aborted'))
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('')
        else value += ch
      }
    }
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}
