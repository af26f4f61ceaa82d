import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/schema.js'
import { checkHashCost, hashCostBound } from './hash-cost.js'

const SALT = 'c2FsdHNhbHRzYWx0'
const DIGEST = 'YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY'
const argon2 = (variant: string, m: number, t: number, p = 4) =>
  `$argon2${variant}$v=19$m=${m},t=${t},p=${p}$${SALT}$${DIGEST}`
const bcrypt = (cost: string) => `$2b$${cost}$${'C'.repeat(22)}E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW`
const scrypt = (ln: number, r: number, p: number) =>
  `$scrypt$ln=${ln},r=${r},p=${p}$${SALT}$${DIGEST}`

/** The bound at the spec's default Argon2 parameters (64 MiB, t=3). */
const DEFAULT = hashCostBound(parseConfig({}).password)
/** The bound at the tests' cheap parameters (1 MiB, t=1). */
const CHEAP = hashCostBound({ argon2_memory_cost: 1024, argon2_time_cost: 1 })

describe('checkHashCost', () => {
  it.each([
    ['argon2id with t=150000', argon2('id', 65_536, 150_000)],
    ['bcrypt cost 17', bcrypt('17')],
    ['bcrypt cost 31', bcrypt('31')],
    ['scrypt N=2^14, r=8, p=200', scrypt(14, 8, 200)],
    ['argon2i over 4 × the configured m·t', argon2('i', 65_536, 13)],
    ['argon2id with 1 GiB + 1 KiB', argon2('id', 1_048_577, 1)],
    ['argon2id with 4 × the configured memory + 1 KiB', argon2('id', 262_145, 1)],
    ['bcrypt cost 15', bcrypt('15')],
    ['scrypt needing more than 4 × the configured memory', scrypt(19, 8, 1)],
  ])('refuses %s at the default parameters', (_name, stored) => {
    expect(checkHashCost(stored, DEFAULT).verdict).toBe('over')
  })

  it.each([
    ['argon2id at the configured parameters', argon2('id', 65_536, 3)],
    ['argon2id at exactly 4 × the configured m·t', argon2('id', 262_144, 3)],
    ['argon2i at OWASP minimum parameters', argon2('i', 19_456, 2, 1)],
    ['bcrypt cost 10', bcrypt('10')],
    ['bcrypt cost 14', bcrypt('14')],
    ["passlib's default scrypt (N=2^16, r=8, p=1)", scrypt(16, 8, 1)],
    ['scrypt N=2^14, r=8, p=8', scrypt(14, 8, 8)],
  ])('accepts %s at the default parameters', (_name, stored) => {
    expect(checkHashCost(stored, DEFAULT).verdict).toBe('within')
  })

  it('derives the Argon2 and scrypt bounds from configured parameters above the defaults', () => {
    const strong = hashCostBound({ argon2_memory_cost: 131_072, argon2_time_cost: 4 })
    expect(checkHashCost(argon2('id', 524_288, 4, 1), strong).verdict).toBe('within')
    expect(checkHashCost(argon2('id', 524_288, 5, 1), strong).verdict).toBe('over')
    expect(checkHashCost(argon2('id', 524_289, 1, 1), strong).verdict).toBe('over')
    // Two sweeps over 128·N·r bytes per lane: 256 MiB a lane against 2 GiB of Argon2 work.
    expect(checkHashCost(scrypt(17, 8, 8), strong).verdict).toBe('within')
    expect(checkHashCost(scrypt(17, 8, 9), strong).verdict).toBe('over')
    // bcrypt is bounded absolutely: its cost does not scale with Argon2's.
    expect(checkHashCost(bcrypt('14'), strong).verdict).toBe('within')
    expect(checkHashCost(bcrypt('15'), strong).verdict).toBe('over')
  })

  it('never bounds below the default parameters, so lowering the cost locks nobody out', () => {
    expect(CHEAP).toEqual(DEFAULT)
    expect(checkHashCost(argon2('id', 65_536, 3), CHEAP).verdict).toBe('within')
    expect(checkHashCost(argon2('id', 65_536, 150_000), CHEAP).verdict).toBe('over')
  })

  it('names the scheme and the bound in the reason of a refusal', () => {
    const result = checkHashCost(bcrypt('31'), DEFAULT)
    expect(result).toMatchObject({ verdict: 'over', scheme: 'bcrypt' })
    expect(result.verdict === 'over' && result.reason).toMatch(/bcrypt.*31.*14/)
  })

  it.each([
    '',
    'plaintext',
    '$argon2id$v=19$m=1024,t=0,p=1$c2FsdHNhbHQ$AAAA',
    '$argon2id$v=19$m=1024,t=1,p=0$c2FsdHNhbHQ$AAAA',
    '$argon2id$v=19$m=7,t=1,p=1$c2FsdHNhbHQ$AAAA',
    '$argon2d$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$YWJjZGVm',
    '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$',
    '$2a$05$tooshort',
    '$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$scrypt$ln=4,r=1$c2FsdA$AAAA',
    '$scrypt$ln=0,r=1,p=1$c2FsdA$AAAA',
    '$pbkdf2-sha256$29000$c2FsdA$AAAA',
  ])('calls %j malformed', (stored) => {
    expect(checkHashCost(stored, DEFAULT)).toEqual({ verdict: 'malformed' })
  })
})

describe('hashCostBound', () => {
  it('caps memory at 1 GiB even when 4 × the configured memory is more', () => {
    const big = hashCostBound({ argon2_memory_cost: 1_048_576, argon2_time_cost: 1 })
    expect(checkHashCost(argon2('id', 1_048_576, 1), big).verdict).toBe('within')
    expect(checkHashCost(argon2('id', 1_048_577, 1), big).verdict).toBe('over')
    expect(checkHashCost(scrypt(20, 8, 1), big).verdict).toBe('within')
    expect(checkHashCost(scrypt(21, 8, 1), big).verdict).toBe('over')
  })
})
