/** Exit status of a successful command. */
export const EXIT_OK = 0
/** Exit status of a command that failed (bad config, unknown user, broken audit chain...). */
export const EXIT_ERROR = 1
/** Exit status of bad usage: unknown command or option, missing or invalid argument. */
export const EXIT_USAGE = 2

/**
 * An expected failure of a CLI command: printed as one `users-core: <message>` line, never with
 * a stack trace.
 */
export class CliError extends Error {
  override readonly name = 'CliError'
  readonly exitCode: number

  constructor(message: string, exitCode: number = EXIT_ERROR) {
    super(message)
    this.exitCode = exitCode
  }
}
