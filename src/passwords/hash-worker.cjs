// One password job per call on a piscina thread (see hash-pool.ts). Plain CommonJS, so the same
// file runs from src/ under tsx or Vitest and from dist/ without a loader.
const { scryptSync } = require('node:crypto')
const argon2 = require('@node-rs/argon2')
const bcrypt = require('bcryptjs')

function compute(job) {
  switch (job.op) {
    case 'argon2.hash':
      return argon2.hashSync(job.password, job.options)
    case 'argon2.verify':
      return argon2.verifySync(job.stored, job.password)
    case 'bcrypt.verify':
      return bcrypt.compareSync(job.password, job.stored)
    case 'scrypt':
      return scryptSync(job.password, job.salt, job.keyLength, job.cost)
    default:
      throw new Error('unknown hash job')
  }
}

/** Runs `job` and answers how long it ran with its result or error, for the pool's timings. */
module.exports = (job) => {
  const startedAt = performance.now()
  try {
    return { ok: true, result: compute(job), durationMs: performance.now() - startedAt }
  } catch (error) {
    const message = String(error?.message ?? error)
    return { ok: false, message, durationMs: performance.now() - startedAt }
  }
}
