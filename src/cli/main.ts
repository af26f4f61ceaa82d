// The `users-core` executable: builds the CLI's io from the process and exits with its code.
import { run } from './program.js'

const code = await run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
})

if (code !== undefined) {
  // Flush both streams before exiting: pipes may be asynchronous (macOS), and a one-shot command
  // must not linger on a timer or handle a dependency left behind.
  process.stdout.write('', () => {
    process.stderr.write('', () => process.exit(code))
  })
}
