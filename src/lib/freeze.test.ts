import { describe, expect, it } from 'vitest'
import { deepFreeze, derivedOfFrozen } from './freeze.js'

describe('deepFreeze', () => {
  it('freezes the value and everything it holds', () => {
    const value = deepFreeze({ list: [1, { inner: 'x' }], when: new Date(0) })
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(value.list)).toBe(true)
    expect(Object.isFrozen(value.list[1])).toBe(true)
    expect(Object.isFrozen(value.when)).toBe(true)
  })
})

describe('derivedOfFrozen', () => {
  it('derives once per frozen input, afresh for every other input', () => {
    let calls = 0
    const derive = derivedOfFrozen((input: { n: number }) => {
      calls++
      return { twice: input.n * 2 }
    })
    const frozen = Object.freeze({ n: 2 })
    const first = derive(frozen)
    expect(derive(frozen)).toBe(first)
    expect(first).toEqual({ twice: 4 })
    expect(calls).toBe(1)

    // A changed record is a new object: derived anew, never answered from the old one.
    expect(derive(Object.freeze({ n: 3 }))).toEqual({ twice: 6 })
    expect(calls).toBe(2)

    const open = { n: 5 }
    expect(derive(open)).toEqual({ twice: 10 })
    open.n = 6
    expect(derive(open)).toEqual({ twice: 12 })
    expect(calls).toBe(4)
  })
})
