import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  isPublished,
  isRotationDue,
  type KeyTimes,
  keyStatus,
  nextScheduleChange,
  orderKeys,
  PUBLISH_LEAD_SECONDS,
  planRotation,
  RETIRE_MARGIN_SECONDS,
  selectSigningKey,
} from './key-schedule.js'

const T0 = Date.parse('2026-01-01T00:00:00Z')
const TTL = 900
const at = (ms: number) => new Date(T0 + ms)

function key(
  kid: string,
  createdAt: number,
  activatesAt: number | null,
  expiresAt: number | null = null,
): KeyTimes {
  return {
    kid,
    algorithm: 'ES256',
    createdAt: at(createdAt),
    activatesAt: activatesAt === null ? null : at(activatesAt),
    expiresAt: expiresAt === null ? null : at(expiresAt),
  }
}

/** Applies a plan the way the store's CAS does. */
function apply(keys: KeyTimes[], now: number, n: number): KeyTimes[] {
  const plan = planRotation(keys, at(now), TTL)
  if (!plan) throw new Error('no plan')
  return [
    ...keys.map((k) =>
      k.kid === plan.nextKid
        ? { ...k, activatesAt: plan.activatesAt }
        : k.kid === plan.retiringKid && k.expiresAt === null
          ? { ...k, expiresAt: plan.retiredExpiresAt }
          : k,
    ),
    key(`k${n}`, now, null),
  ]
}

describe('key schedule', () => {
  it('nextScheduleChange: nothing about the published keys or the signer changes before it', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.option(fc.integer({ min: 0, max: 5000 })),
            fc.option(fc.integer({ min: 0, max: 5000 })),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        fc.integer({ min: 0, max: 5000 }),
        (times, now) => {
          const keys = times.map(([activates, expires], i) => key(`k${i}`, 0, activates, expires))
          const change = nextScheduleChange(keys, at(now))
          const view = (t: number) =>
            JSON.stringify([
              orderKeys(
                keys.filter((k) => isPublished(k, at(t))),
                at(t),
              ).map((k) => k.kid),
              selectSigningKey(keys, at(t))?.kid,
            ])
          const until = Number.isFinite(change) ? change - T0 : 6000
          for (const t of [now, Math.floor((now + until) / 2), until - 1]) {
            if (t >= now) expect(view(t)).toBe(view(now))
          }
          if (Number.isFinite(change)) expect(change).toBeGreaterThan(at(now).getTime())
        },
      ),
    )
  })

  it('picks the latest activated key, and the earliest scheduled one when none has activated', () => {
    const keys = [key('a', 0, 0), key('b', 0, 1000), key('c', 0, null)]
    expect(selectSigningKey(keys, at(999))?.kid).toBe('a')
    expect(selectSigningKey(keys, at(1000))?.kid).toBe('b')
    expect(selectSigningKey(keys, at(-5))?.kid).toBe('a')
    expect(keyStatus(keys[1] as KeyTimes, keys[0], at(0))).toBe('next')
  })

  it('activates a freshly published next key only after one JWKS max-age', () => {
    const keys = [key('a', 0, 0), key('b', 10_000, null)]
    const plan = planRotation(keys, at(20_000), TTL)
    expect(plan).toEqual({
      nextKid: 'b',
      activatesAt: at(10_000 + PUBLISH_LEAD_SECONDS * 1000),
      retiringKid: 'a',
      retiredExpiresAt: at(10_000 + (PUBLISH_LEAD_SECONDS + TTL + RETIRE_MARGIN_SECONDS) * 1000),
    })
    expect(planRotation([key('a', 0, 0)], at(0), TTL)).toBeUndefined()
  })

  it('is due key_rotation_days after the last activation, counting a pending one', () => {
    const day = 86_400_000
    expect(isRotationDue([key('a', 0, 0)], at(day - 1), 1)).toBe(false)
    expect(isRotationDue([key('a', 0, 0)], at(day), 1)).toBe(true)
    expect(isRotationDue([key('a', 0, 0), key('b', 0, day + 5)], at(day), 1)).toBe(false)
    expect(isRotationDue([key('a', 0, 0)], at(100 * day), 0)).toBe(false)
  })

  it('over any sequence of rotations: the signer was published long enough and outlives its tokens', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 * 86_400_000 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 20 * 86_400_000 }), { minLength: 1, maxLength: 30 }),
        (gaps, probes) => {
          let keys = [key('k0', 0, 0), key('k1', 0, null)]
          let now = 0
          gaps.forEach((gap, i) => {
            now += gap
            keys = apply(keys, now, i + 2)
          })
          for (const t of probes) {
            const signer = selectSigningKey(keys, at(t))
            expect(signer).toBeDefined()
            if (!signer) continue
            // published at least one max-age before signing (the bootstrap key excepted)
            if (signer.kid !== 'k0') {
              expect(signer.createdAt.getTime() + PUBLISH_LEAD_SECONDS * 1000).toBeLessThanOrEqual(
                T0 + t,
              )
            }
            // still published when the last token it signs at t expires
            const tokenExpiry = T0 + t + TTL * 1000
            expect(isPublished(signer, new Date(tokenExpiry))).toBe(true)
            expect(orderKeys(keys, at(t))[0]?.kid).toBe(signer.kid)
          }
          expect(keys.filter((k) => k.activatesAt === null)).toHaveLength(1)
        },
      ),
    )
  })
})
