import { type Compilable, type CompiledQuery, type Expression, sql } from 'kysely'

// Hot-path queries are built and compiled once; each call only swaps the parameter values. A
// parameter is an SQL expression whose value is a sentinel string; compiling leaves it among
// the query's parameters, where each call puts its argument instead.
const SENTINEL = '\u0000users-core-param:'

/** A parameter of a {@link prepareQuery} query: an SQL expression of type `T`. */
export type Param<T> = Expression<T>

type Params<A extends readonly unknown[]> = { [I in keyof A]: Param<A[I]> }

/**
 * Compiles the query `build` makes from one {@link Param} per argument, once, and returns a
 * function producing it with the given arguments in their places (other parameters keep their
 * compiled values).
 */
export function prepareQuery<A extends readonly unknown[], R>(
  build: (...params: Params<A>) => Compilable<R>,
): (...args: A) => CompiledQuery<R> {
  const params = Array.from({ length: build.length }, (_, i) => sql`${`${SENTINEL}${i}`}`)
  const compiled = build(...(params as Params<A>)).compile()
  const positions = compiled.parameters.map((p) =>
    typeof p === 'string' && p.startsWith(SENTINEL) ? Number(p.slice(SENTINEL.length)) : -1,
  )
  return (...args) => ({
    ...compiled,
    parameters: positions.map((at, i) => (at < 0 ? compiled.parameters[i] : args[at])),
  })
}
