import type { Store } from '../domain/store.js'
import { guard, type StoreContext } from './context.js'
import { toMillis } from './row-mapping.js'

/** Generated secrets shared by every instance: the first writer's value wins, forever. */
export function createInstanceSecretStore(ctx: StoreContext): Pick<Store, 'instanceSecret'> {
  const { db } = ctx
  return {
    instanceSecret: (name, candidate, at) =>
      guard(async () => {
        await db
          .insertInto('instance_secrets')
          .values({ name, value: candidate, created_at: toMillis(at) })
          .onConflict((oc) => oc.column('name').doNothing())
          .execute()
        const row = await db
          .selectFrom('instance_secrets')
          .select('value')
          .where('name', '=', name)
          .executeTakeFirstOrThrow()
        return row.value
      }),
  }
}
