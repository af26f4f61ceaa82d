import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import type { ImportUserInput, UsersCore } from '../types.js'
import {
  CLI_REQUEST_CONTEXT,
  type CliIo,
  type CliOutput,
  loadCliConfig,
  println,
  withCore,
} from './context.js'
import { CliError } from './exit-codes.js'
import { parseCount } from './user.js'

/** Lines sent to `core.users.importBatch` at once. */
const DEFAULT_BATCH_SIZE = 500
/** Skipped and failed lines listed one by one; the rest are only counted. */
const MAX_LISTED_PROBLEMS = 20
const PROGRESS_INTERVAL_MS = 100
const BAR_WIDTH = 30

/** What `import` did with a file. */
export interface ImportSummary {
  imported: number
  skipped: number
  failed: number
  /** The first {@link MAX_LISTED_PROBLEMS} skipped or failed lines, in file order. */
  problems: { line: number; status: 'skipped' | 'failed'; reason: string }[]
  /** Skipped or failed lines beyond those listed. */
  unlisted: number
}

/** A single-line `\r` progress bar on a terminal (no dependency); silent elsewhere. */
function createProgress(out: CliOutput, totalBytes: number) {
  let last = 0
  let drawn = false
  return {
    update(bytes: number, lines: number, force = false) {
      const now = Date.now()
      if (!out.isTTY || (!force && now - last < PROGRESS_INTERVAL_MS)) return
      last = now
      drawn = true
      const ratio = totalBytes > 0 ? Math.min(1, bytes / totalBytes) : 1
      const filled = Math.round(ratio * BAR_WIDTH)
      const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`
      out.write(`\r[${bar}] ${String(Math.floor(ratio * 100)).padStart(3)}%  ${lines} lines`)
    },
    clear() {
      if (drawn) out.write('\r\u001b[2K')
    },
  }
}

/**
 * Streams a JSON-lines file of users with existing hashes into the core in batches (SPEC §7).
 * Blank lines are ignored; a line that is not a JSON object counts as failed.
 */
export async function importUsers(
  core: UsersCore,
  file: string,
  io: CliIo,
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<ImportSummary> {
  const { size } = await stat(file)
  const summary: ImportSummary = { imported: 0, skipped: 0, failed: 0, problems: [], unlisted: 0 }
  const note = (line: number, status: 'skipped' | 'failed', reason: string) => {
    summary[status]++
    if (summary.problems.length < MAX_LISTED_PROBLEMS)
      summary.problems.push({ line, status, reason })
    else summary.unlisted++
  }
  let batch: { line: number; row: ImportUserInput }[] = []
  const flush = async () => {
    if (batch.length === 0) return
    const results = await core.users.importBatch(
      batch.map((b) => b.row),
      CLI_REQUEST_CONTEXT,
    )
    batch.forEach(({ line }, i) => {
      const result = results[i]
      if (!result) note(line, 'failed', 'no result from the importer')
      else if (result.status === 'imported') summary.imported++
      else note(line, result.status, result.reason)
    })
    batch = []
  }

  const input = createReadStream(file)
  // readline does not forward read errors to its iterator; keep the first one and rethrow it.
  let readError: Error | undefined
  input.on('error', (error) => {
    readError = error
  })
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  const progress = createProgress(io.stderr, size)
  let lineNo = 0
  try {
    for await (const raw of lines) {
      lineNo++
      const text = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw
      if (text.trim() !== '') {
        let row: unknown
        try {
          row = JSON.parse(text)
        } catch {
          row = undefined
          note(lineNo, 'failed', 'invalid JSON')
        }
        if (row !== undefined) {
          if (row && typeof row === 'object' && !Array.isArray(row)) {
            batch.push({ line: lineNo, row: row as ImportUserInput })
            if (batch.length >= batchSize) await flush()
          } else note(lineNo, 'failed', 'not a JSON object')
        }
      }
      progress.update(input.bytesRead, lineNo)
    }
    if (readError) throw new CliError(`cannot read ${file}: ${readError.message}`)
    await flush()
    progress.update(size, lineNo, true)
  } finally {
    progress.clear()
    lines.close()
    input.destroy()
  }
  return summary
}

/** Registers `import FILE`. */
export function registerImportCommand(program: Command, io: CliIo): void {
  program
    .command('import')
    .summary('import users with existing password hashes from a JSON-lines file')
    .description(
      'import users from JSON lines with existing hashes ($argon2id$, $argon2i$, bcrypt, $scrypt$); ' +
        "hashes are upgraded to the configured Argon2id at each user's next login. Exits 0 once " +
        'the file is processed, even if some lines were skipped or failed; 1 if it cannot be read',
    )
    .argument(
      '<file>',
      'one object per line: {username, password_hash, email?, display_name?, roles?, active?, created_at?}',
    )
    .option(
      '--batch-size <n>',
      `lines per database batch (default ${DEFAULT_BATCH_SIZE})`,
      parseCount,
    )
    .action(async (file: string, opts: { batchSize?: number }, command: Command) => {
      const loaded = loadCliConfig(command, io)
      try {
        const info = await stat(file)
        if (!info.isFile()) throw new Error('not a regular file')
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as Error).message}`)
      }
      const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE)
      const summary = await withCore(loaded, io, (core) => importUsers(core, file, io, batchSize))
      println(
        io.stdout,
        `imported ${summary.imported}, skipped ${summary.skipped}, failed ${summary.failed}`,
      )
      for (const p of summary.problems)
        println(io.stdout, `  line ${p.line}: ${p.status}: ${p.reason}`)
      if (summary.unlisted > 0) {
        println(io.stdout, `  ... and ${summary.unlisted} more skipped or failed lines`)
      }
    })
}
