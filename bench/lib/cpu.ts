// Server CPU time read from outside: what a request costs the server, whatever the load
// generator or the neighbours on a shared machine do to its throughput.
import { execSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Clock ticks per second, the unit of utime and stime in /proc (normally 100). */
export const CLK_TCK = Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim())

/**
 * utime + stime of process `pid` in seconds: fields 14 and 15 of /proc/<pid>/stat, which sum
 * every thread of the process (the hash workers and libuv's pool too, ended ones included).
 */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: count fields from the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/** A CPU cost given in seconds as `123 µs`, or `108.3 ms` from 10 ms up. */
export function cpuTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'n/a'
  if (seconds >= 0.01) return `${(seconds * 1e3).toFixed(1)} ms`
  return `${Math.round(seconds * 1e6).toLocaleString('en-US')} µs`
}
