import type BetterSqlite3 from 'better-sqlite3'

/**
 * The change stamp of one connection (see `SqliteKysely.changeStamp`): `countWrite` is called
 * before each statement that can write, `read` adds the commits other connections made since.
 */
export function createChangeStamp(raw: BetterSqlite3.Database) {
  const dataVersion = raw.prepare('PRAGMA data_version').pluck()
  let localWrites = 0
  let externalCommits = 0
  let lastDataVersion = dataVersion.get()
  return {
    countWrite(): void {
      localWrites++
    },
    read(): number {
      const version = dataVersion.get()
      if (version !== lastDataVersion) {
        lastDataVersion = version
        externalCommits++
      }
      return localWrites + externalCommits
    },
  }
}
