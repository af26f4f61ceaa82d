import { Readable, Writable } from 'node:stream'
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import type { CliIo, CliOutput } from '../../src/cli/context.js'
import { createProgram, run } from '../../src/cli/program.js'
import { runCli } from './cli-harness.js'

function capture(): CliOutput & { text: () => string } {
  const chunks: string[] = []
  const out = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk))
      done()
    },
  })
  return Object.assign(out, { text: () => chunks.join('') })
}

function memoryIo() {
  const stdout = capture()
  const stderr = capture()
  const io: CliIo = { stdin: Readable.from([]), stdout, stderr, env: {}, cwd: process.cwd() }
  return { io, stdout, stderr }
}

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])])
}

const ALL_COMMANDS = commandPaths(createProgram(memoryIo().io, { exitCode: 0, detached: false }))

describe('the command tree', () => {
  it('has every command of SPEC §7', () => {
    expect(ALL_COMMANDS.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining([
        'serve',
        'migrate',
        'user create',
        'user list',
        'user show',
        'user set-password',
        'user set-roles',
        'user activate',
        'user deactivate',
        'user delete',
        'keys list',
        'keys rotate',
        'config check',
        'config print',
        'audit list',
        'audit verify',
        'audit seal',
        'import',
        'export',
        'hash calibrate',
      ]),
    )
  })

  // In process: one spawn per command would cost a second each for what is pure commander.
  it.each(ALL_COMMANDS.map((p) => [p.join(' '), p]))(
    '%s --help prints its usage with --config and exits 0',
    async (_name, path) => {
      const { io, stdout, stderr } = memoryIo()
      expect(await run([...path, '--help'], io)).toBe(0)
      expect(stdout.text()).toContain(`Usage: users-core ${path.join(' ')}`)
      expect(stdout.text()).toContain('--config <path>')
      expect(stderr.text()).toBe('')
    },
  )

  it('reports bad usage in one line and exits 2', async () => {
    for (const argv of [
      ['frobnicate'],
      ['user', 'list', '--bogus'],
      ['user', 'show'],
      ['user', 'list', '--active', 'maybe'],
      ['audit', 'list', '--since', 'yesterday-ish'],
      ['hash', 'calibrate'],
      ['user', 'show', 'a', 'b'],
    ]) {
      const { io, stdout, stderr } = memoryIo()
      expect(await run(argv, io), argv.join(' ')).toBe(2)
      expect(stdout.text()).toBe('')
      expect(stderr.text()).toMatch(/^users-core: [^\n]+\n$/)
    }
  })

  it('shows help on standard error and exits 2 for a group without its subcommand', async () => {
    const { io, stderr } = memoryIo()
    expect(await run(['user'], io)).toBe(2)
    expect(stderr.text()).toContain('Usage: users-core user')
  })
})

describe('the real executable', () => {
  it('prints help and exits 0', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: users-core')
    expect(r.stderr).toBe('')
  })

  it('exits 2 on an unknown command with one line on standard error', async () => {
    const r = await runCli(['frobnicate'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe("users-core: unknown command 'frobnicate'\n")
  })

  it('exits 2 on an unknown option and a missing argument', async () => {
    const [option, argument] = await Promise.all([
      runCli(['keys', 'list', '--frob']),
      runCli(['user', 'set-roles', 'alice']),
    ])
    expect(option.code).toBe(2)
    expect(option.stderr).toBe("users-core: unknown option '--frob'\n")
    expect(argument.code).toBe(2)
    expect(argument.stderr).toBe("users-core: missing required argument 'roles'\n")
  })
})
