import { useState } from 'preact/hooks'
import { send } from '../api.js'
import { Button, ErrorBox, Field, useAction } from '../ui.js'

/**
 * `POST /users/:id/password`: a change (with the old password) for oneself, a reset for an admin.
 * A weak password comes back as WEAK_PASSWORD, whose failed rules the error box lists inline.
 */
export function PasswordForm(props: { userId: string; isReset: boolean; onDone: () => void }) {
  const [oldPassword, setOldPassword] = useState('')
  const [newPassword, setNewPassword] = useState('')
  const [repeat, setRepeat] = useState('')
  const action = useAction()

  const submit = (e: Event) => {
    e.preventDefault()
    return action.run(async () => {
      if (newPassword !== repeat) throw new Error('The two new passwords differ.')
      await send('POST', `/users/${props.userId}/password`, {
        ...(props.isReset ? {} : { old_password: oldPassword }),
        new_password: newPassword,
      })
      setOldPassword('')
      setNewPassword('')
      setRepeat('')
      props.onDone()
    })
  }

  return (
    <form
      class="inline-form"
      onSubmit={submit}
      aria-label={props.isReset ? 'Reset password' : 'Change password'}
    >
      {props.isReset ? (
        <p class="muted">A reset ends every session of this user.</p>
      ) : (
        <Field
          label="Current password"
          type="password"
          value={oldPassword}
          onInput={setOldPassword}
          name="old-password"
          autocomplete="current-password"
          required
        />
      )}
      <Field
        label="New password"
        type="password"
        value={newPassword}
        onInput={setNewPassword}
        name="new-password"
        autocomplete="new-password"
        required
      />
      <Field
        label="Repeat the new password"
        type="password"
        value={repeat}
        onInput={setRepeat}
        name="repeat-password"
        autocomplete="new-password"
        required
      />
      <Button type="submit" kind="primary" busy={action.busy}>
        {props.isReset ? 'Reset password' : 'Change password'}
      </Button>
      <ErrorBox error={action.error} />
    </form>
  )
}
