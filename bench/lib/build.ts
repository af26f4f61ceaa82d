import { execFile } from 'node:child_process'
import { REPO_ROOT } from './child.js'

/** True when the server under test runs from the TypeScript sources (`BENCH_FROM_SRC=1`). */
export const FROM_SRC = process.env.BENCH_FROM_SRC === '1'

/** Where the processes under test import users-core from, relative to `bench/`. */
export const PRODUCT_ROOT = FROM_SRC ? '../src' : '../dist'

let built: Promise<void> | undefined

/**
 * Builds dist/ from the current sources, once per orchestrating process: the bench measures what
 * users run (the compiled package `npm start` serves), not the sources through tsx's loader.
 */
export function ensureBuilt(): Promise<void> {
  if (FROM_SRC) return Promise.resolve()
  built ??= new Promise((resolve, reject) => {
    execFile('npm', ['run', 'build'], { cwd: REPO_ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`npm run build failed:\n${stdout}${stderr}`))
      else resolve()
    })
  })
  return built
}
