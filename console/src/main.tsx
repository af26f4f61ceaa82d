import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { onBusyChange, setSessionListeners, signOut, type User } from './api.js'
import { Button } from './ui.js'
import { Account } from './views/account.js'
import { Audit } from './views/audit.js'
import { SignIn } from './views/sign-in.js'
import { SigningKeys } from './views/signing-keys.js'
import { UserDetail } from './views/user-detail.js'
import { Users } from './views/users.js'

// Views live in the URL fragment: the server serves one page, and the fragment never leaves it.
function useRoute(): string {
  const [route, setRoute] = useState(window.location.hash.slice(1) || '/')
  useEffect(() => {
    const update = () => setRoute(window.location.hash.slice(1) || '/')
    window.addEventListener('hashchange', update)
    return () => window.removeEventListener('hashchange', update)
  }, [])
  return route
}

function go(route: string): void {
  window.location.hash = `#${route}`
}

function ProgressBar() {
  const [busy, setBusy] = useState(false)
  useEffect(() => onBusyChange(setBusy), [])
  return (
    <div
      class={busy ? 'progress on' : 'progress'}
      role="progressbar"
      aria-label="Loading"
      aria-hidden={busy ? 'false' : 'true'}
      data-busy={busy ? 'true' : 'false'}
    />
  )
}

function Nav({ user, route }: { user: User; route: string }) {
  const isAdmin = user.roles.includes('admin')
  const link = (to: string, label: string) => (
    <a href={`#${to}`} aria-current={route.startsWith(to) ? 'page' : undefined}>
      {label}
    </a>
  )
  return (
    <header class="top">
      <span class="brand">users-core</span>
      <nav aria-label="Main">
        {isAdmin ? link('/users', 'Users') : null}
        {isAdmin ? link('/audit', 'Audit') : null}
        {isAdmin ? link('/keys', 'Signing keys') : null}
        {link('/account', 'My account')}
      </nav>
      <span class="who" data-testid="signed-in-as">
        {user.username}
      </span>
      <Button onClick={() => void signOut()}>Sign out</Button>
    </header>
  )
}

function Main({
  user,
  setUser,
  route,
  onPasswordChanged,
}: {
  user: User
  setUser: (user: User) => void
  route: string
  onPasswordChanged: () => void
}) {
  const isAdmin = user.roles.includes('admin')
  const detail = /^\/users\/([0-9a-f-]{36})$/i.exec(route)
  if (isAdmin && detail?.[1]) {
    return <UserDetail id={detail[1]} meId={user.id} back={() => go('/users')} />
  }
  if (isAdmin && route.startsWith('/users')) return <Users open={(id) => go(`/users/${id}`)} />
  if (isAdmin && route.startsWith('/audit')) return <Audit />
  if (isAdmin && route.startsWith('/keys')) return <SigningKeys />
  return <Account user={user} onUserChanged={setUser} onPasswordChanged={onPasswordChanged} />
}

function App() {
  const [user, setUser] = useState<User | undefined>(undefined)
  const [notice, setNotice] = useState<string | undefined>(undefined)
  const route = useRoute()

  useEffect(() => {
    setSessionListeners({
      signedOut: () => {
        setUser(undefined)
        go('/')
        setNotice('You are signed out.')
      },
      userChanged: (next) =>
        setUser((previous) => {
          if (!previous && (window.location.hash === '' || window.location.hash === '#/')) {
            go(next.roles.includes('admin') ? '/users' : '/account')
          }
          return next
        }),
    })
  }, [])

  return (
    <>
      <ProgressBar />
      {user ? <Nav user={user} route={route} /> : null}
      <main id="main">
        {user ? (
          <Main
            key={route}
            user={user}
            setUser={setUser}
            route={route}
            onPasswordChanged={() =>
              setNotice('Your password was changed and every session ended: sign in again.')
            }
          />
        ) : (
          <SignIn notice={notice} />
        )}
      </main>
    </>
  )
}

const root = document.getElementById('app')
if (root) render(<App />, root)
