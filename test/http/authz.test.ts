import { describe, expect, test } from 'vitest'
import { ungrantable } from '../../src/api-keys/permissions.js'
import {
  authorizeAdmin,
  authorizeSelfOrAdmin,
  forbiddenUpdateFields,
  isAdmin,
  methodPermission,
} from '../../src/http/authz.js'
import type { ApiKeyPermission, Principal } from '../../src/types.js'

const ALL: ApiKeyPermission[] = ['read', 'write', 'delete', 'admin', '*']

function principal(roles: string[], permissions: ApiKeyPermission[], id = 'u1'): Principal {
  const at = new Date(0)
  return {
    kind: permissions === ALL ? 'access_token' : 'api_key',
    user: {
      id,
      username: id,
      email: null,
      displayName: null,
      roles,
      active: true,
      createdAt: at,
      updatedAt: at,
      lastLogin: null,
    },
    permissions,
  }
}

describe('pure authorization decisions', () => {
  test('method → permission', () => {
    expect(['GET', 'HEAD', 'POST', 'PUT', 'DELETE'].map(methodPermission)).toEqual([
      'read',
      'read',
      'write',
      'write',
      'delete',
    ])
  })

  test('admin = admin role AND admin (or *) permission', () => {
    expect(isAdmin(principal(['admin'], ALL))).toBe(true)
    expect(isAdmin(principal(['admin'], ['*']))).toBe(true)
    expect(isAdmin(principal(['admin'], ['read', 'admin']))).toBe(true)
    expect(isAdmin(principal(['admin'], ['read']))).toBe(false)
    expect(isAdmin(principal(['user'], ['*']))).toBe(false)
  })

  test('admin routes also need the method permission', () => {
    expect(authorizeAdmin(principal(['admin'], ['admin']), 'GET').allowed).toBe(false)
    expect(authorizeAdmin(principal(['admin'], ['read', 'admin']), 'GET').allowed).toBe(true)
    expect(authorizeAdmin(principal(['admin'], ['read', 'admin']), 'DELETE').allowed).toBe(false)
  })

  test('self or admin', () => {
    expect(authorizeSelfOrAdmin(principal(['user'], ALL, 'u1'), 'GET', 'u1')).toEqual({
      allowed: true,
      as: 'self',
    })
    expect(authorizeSelfOrAdmin(principal(['user'], ALL, 'u1'), 'GET', 'u2').allowed).toBe(false)
    expect(authorizeSelfOrAdmin(principal(['admin'], ALL, 'u1'), 'GET', 'u2')).toEqual({
      allowed: true,
      as: 'admin',
    })
    expect(authorizeSelfOrAdmin(principal(['user'], ['read'], 'u1'), 'PUT', 'u1').allowed).toBe(
      false,
    )
  })

  test('self may update only email and display_name', () => {
    expect(forbiddenUpdateFields('self', ['email', 'display_name'])).toEqual([])
    expect(forbiddenUpdateFields('self', ['email', 'roles', 'active'])).toEqual(['roles', 'active'])
    expect(forbiddenUpdateFields('admin', ['roles', 'active'])).toEqual([])
  })

  test('a key grants nothing its creator lacks', () => {
    const user = principal(['user'], ALL)
    expect(ungrantable(user, ['read', 'write', 'delete'])).toEqual([])
    expect(ungrantable(user, ['admin', '*'])).toEqual(['admin', '*'])
    const admin = principal(['admin'], ALL)
    expect(ungrantable(admin, ['*', 'admin'])).toEqual([])
    const readKey = principal(['admin'], ['read'])
    expect(ungrantable(readKey, ['read', 'write'])).toEqual(['write'])
    const explicitAll = principal(['admin'], ['read', 'write', 'delete', 'admin'])
    expect(ungrantable(explicitAll, ['*'])).toEqual([])
  })
})
