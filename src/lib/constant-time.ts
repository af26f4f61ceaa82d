import { createHash, timingSafeEqual } from 'node:crypto'

/** SHA-256 of a UTF-8 string, hex encoded. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex')
}

/**
 * Compares two strings in time independent of where they differ. Both sides are hashed first so
 * the comparison also hides their lengths.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest()
  const hb = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(ha, hb)
}
