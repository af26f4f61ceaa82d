/** Freezes `value` and everything it holds, so what is shared cannot be altered by a reader. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

/**
 * `derive`, remembered per frozen input: a frozen object never changes, so what is derived
 * from it once holds for as long as it lives (held weakly, dropped with it). Objects that are
 * not frozen are derived afresh on every call.
 */
export function derivedOfFrozen<K extends object, V>(derive: (input: K) => V): (input: K) => V {
  const derived = new WeakMap<K, V>()
  return (input) => {
    if (!Object.isFrozen(input)) return derive(input)
    let value = derived.get(input)
    if (value === undefined) {
      value = derive(input)
      derived.set(input, value)
    }
    return value
  }
}
