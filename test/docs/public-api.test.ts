import { describe, expect, it } from 'vitest'
import * as http from '../../src/http/index.js'
import * as library from '../../src/index.js'

// The public surface is deliberate: adding or removing an export must be a visible decision.
describe('public exports', () => {
  it('the library entry exports exactly these values', () => {
    expect(Object.keys(library).sort()).toEqual([
      'ERROR_STATUS',
      'UsersError',
      'init',
      'isUsersError',
      'loadConfig',
      'parseConfig',
    ])
  })

  it('the http entry exports exactly these values', () => {
    expect(Object.keys(http).sort()).toEqual([
      'createApp',
      'createLimiterBackend',
      'installSignalHandlers',
      'startServer',
    ])
  })
})
