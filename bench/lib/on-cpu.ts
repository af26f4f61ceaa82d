// On-CPU sampling of one thread with Linux perf's software `cpu-clock` event, which works on
// guests without hardware counters. Unlike V8's --cpu-prof, which samples wall time and so
// charges a preempted event loop to whatever JavaScript was on its stack, a sample here is taken
// only while the thread runs. Needs `perf` (Debian's linux-perf) and the server started with
// --perf-basic-prof so JIT-compiled JavaScript has names.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { CLK_TCK } from './cpu.js'

/** CPU time (ms) of each thread of `pid`, keyed `tid name`. */
export function threadCpuMs(pid: number): Map<string, number> {
  const threads = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    } catch {
      continue // the thread ended between the listing and the read
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks.
    threads.set(`${tid} ${name}`, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK)
  }
  return threads
}

/** Each thread's share of one core between two readings, busiest first, idle ones left out. */
export function describeThreadCpu(
  before: Map<string, number>,
  after: Map<string, number>,
  wallMs: number,
): string[] {
  return [...after]
    .map(([thread, ms]) => [thread, (ms - (before.get(thread) ?? 0)) / wallMs] as const)
    .filter(([, share]) => share >= 0.02)
    .sort((a, b) => b[1] - a[1])
    .map(([thread, share]) => `${thread}: ${Math.round(share * 100)} % of a core`)
}

/** Samples thread `tid` on-CPU for `seconds` into `file`. */
export function recordOnCpu(tid: number, seconds: number, file: string): void {
  execFileSync(
    'perf',
    [
      'record',
      '-e',
      'cpu-clock',
      '-F',
      '1999',
      '-t',
      String(tid),
      '-o',
      file,
      '--',
      'sleep',
      String(seconds),
    ],
    { stdio: 'ignore' },
  )
}

/** perf's report of `file` sorted by `key` (`dso` or `symbol`): the first `rows` lines. */
export function reportOnCpu(file: string, key: 'dso' | 'symbol', rows: number): string[] {
  const text = execFileSync(
    'perf',
    ['report', '-i', file, '--stdio', '--no-children', '--sort', key],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 },
  )
  return text
    .split('\n')
    .filter((line) => /^\s+\d/.test(line))
    .slice(0, rows)
    .map(
      (line) =>
        `  ${line
          .trim()
          .replace(/(\s+-)+$/, '') // perf's empty columns
          .replace(/\s{2,}/g, '  ')
          .slice(0, 120)}`,
    )
}
