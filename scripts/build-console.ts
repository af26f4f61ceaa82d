import { mkdir, rm, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

// Bundles the web console (console/, SPEC §13) into dist/console/: index.html plus content-hashed
// assets, so the server can let browsers keep the assets for good and revalidate only the page.

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Where the server looks for the built console (src/http/routes/console.ts). */
export const CONSOLE_OUT_DIR = join(ROOT, 'dist', 'console')

/** Builds the console into `outDir` (replacing what was there); returns the asset file names. */
export async function buildConsole(outDir: string = CONSOLE_OUT_DIR): Promise<string[]> {
  const assetsDir = join(outDir, 'assets')
  await rm(outDir, { recursive: true, force: true })
  await mkdir(assetsDir, { recursive: true })
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { app: 'console/src/main.tsx', styles: 'console/src/styles.css' },
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome111', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: 'console/tsconfig.json',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  })
  const files = Object.keys(result.metafile.outputs).map((path) => basename(path))
  const script = files.find((f) => f.endsWith('.js'))
  const style = files.find((f) => f.endsWith('.css'))
  if (!script || !style) throw new Error('esbuild produced no script or no stylesheet')
  await writeFile(join(outDir, 'index.html'), page(script, style))
  return files
}

// Relative URLs, like /docs: the page also works behind a path prefix. No inline script or style.
function page(script: string, style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>users-core console</title>
<link rel="stylesheet" href="console/assets/${style}">
<script defer src="console/assets/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The users-core console needs JavaScript.</noscript>
</body>
</html>
`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await buildConsole()
  process.stdout.write(`console built into ${CONSOLE_OUT_DIR}: ${files.join(', ')}\n`)
}
