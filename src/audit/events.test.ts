import { describe, expect, it } from 'vitest'
import { createManualClock } from '../lib/clock.js'
import { secureRandom } from '../lib/random.js'
import { createAuditEventFactory } from './events.js'

describe('audit event factory', () => {
  it('gives each event a UUIDv7 that carries its time, so ids sort as the events happened', () => {
    const clock = createManualClock(new Date('2026-03-01T12:00:00Z'))
    const audit = createAuditEventFactory(clock, secureRandom)
    const ids: string[] = []
    for (let i = 0; i < 50; i++) {
      clock.set(new Date(Date.parse('2026-03-01T12:00:00Z') + i * 1000))
      const event = audit.build('user.created', null)
      expect(event.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      )
      // The first 48 bits are the event's Unix time in milliseconds (RFC 9562 §5.7).
      expect(Number.parseInt(event.id.replace(/-/g, '').slice(0, 12), 16)).toBe(event.at.getTime())
      ids.push(event.id)
    }
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
