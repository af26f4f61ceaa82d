import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

// The list ships with @zxcvbn-ts/language-common (MIT): about 49,000 passwords ranked by how
// often they appear in public breach corpora. The package has no `exports` map, so its JSON file
// resolves by path.
const LIST_MODULE = '@zxcvbn-ts/language-common/src/passwords.json'

let list: ReadonlySet<string> | undefined

function load(): ReadonlySet<string> {
  if (!list) {
    const path = createRequire(import.meta.url).resolve(LIST_MODULE)
    const entries: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (!Array.isArray(entries)) throw new Error(`${LIST_MODULE} is not an array`)
    list = new Set(entries.filter((e) => typeof e === 'string').map((e) => e.toLowerCase()))
  }
  return list
}

/**
 * True when `password` is on the shipped list of common passwords, ignoring case. The list is
 * read once, on first use; call {@link loadCommonPasswords} at start-up to pay
 * that cost before the first request.
 */
export function isCommonPassword(password: string): boolean {
  return load().has(password.toLowerCase())
}

/** Loads the common-password list now and returns how many distinct entries it holds. */
export function loadCommonPasswords(): number {
  return load().size
}
