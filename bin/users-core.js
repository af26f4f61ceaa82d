#!/usr/bin/env node
// CommonJS on purpose (bin/package.json): an ESM entry is read through libuv's thread pool
// before its first line runs, which fixes the pool at 4 threads. Token signing and file I/O run
// on that pool (password hashes have their own worker threads), so it is enlarged here, before
// anything touches it: a burst of signatures then never waits behind a slow disk read.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '16'
import('../dist/cli/main.js').catch((error) => {
  const missing = error?.code === 'ERR_MODULE_NOT_FOUND' && /dist/.test(error.message)
  const reason = missing ? 'dist/ is not built; run `npm run build` first' : error?.message
  process.stderr.write(`users-core: cannot start: ${reason}\n`)
  process.exit(1)
})
