import type { Compilable, CompiledQuery } from 'kysely'

// Hot-path queries are built and compiled once; each call only swaps the parameter values.
// Placeholders are sentinel strings the query builder passes through as ordinary parameters.
const SENTINEL = '\u0000users-core-param:'

/** Placeholder for argument `index` of a {@link prepareQuery}; typed as whatever the column takes. */
export function slot<T = string>(index: number): T {
  return `${SENTINEL}${index}` as unknown as T
}

/**
 * Compiles `query` once and returns a function producing it with the given arguments in place
 * of its {@link slot}s (other parameters keep their compiled values).
 */
export function prepareQuery<R>(
  query: Compilable<R>,
): (args: readonly unknown[]) => CompiledQuery<R> {
  const compiled = query.compile()
  const positions = compiled.parameters.map((p) =>
    typeof p === 'string' && p.startsWith(SENTINEL) ? Number(p.slice(SENTINEL.length)) : -1,
  )
  return (args) => ({
    ...compiled,
    parameters: positions.map((at, i) => (at < 0 ? compiled.parameters[i] : args[at])),
  })
}
