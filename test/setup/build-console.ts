import { buildConsole } from '../../scripts/build-console.js'

// Once per run, before any test file: `npm test` on a fresh clone serves a console without a
// prior `npm run build`, and no two test files write dist/console at once.
export default async function setup(): Promise<void> {
  await buildConsole()
}
