import { ApiError, del, post, put, setSignedInHint } from '../api.js';
import { busy, clear, clearErrors, fieldError, h, keyBox, moneySpan, say, showError, time } from '../ui.js';
import { act, boot } from '../app.js';

const $id = (id) => document.getElementById(id);

function showPrefix(prefix) {
  $id('key-prefix').textContent = prefix ? `${prefix}…` : 'none';
  $id('delete-key').hidden = !prefix;
}

// A two-step button: the first click shows the confirmation box.
function confirmStep(button, box, yes, no, onYes) {
  button.addEventListener('click', () => {
    box.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    yes.focus();
  });
  no.addEventListener('click', () => {
    box.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    button.focus();
  });
  yes.addEventListener('click', () => act(async () => {
    yes.disabled = true;
    try {
      await onYes();
      box.hidden = true;
    } finally {
      yes.disabled = false;
    }
  }, (err) => say('key-status', err.message, 'error')));
}

// Whether a limit is the server's default or set for this account.
function sourceText(user, limit) {
  const src = user.limits_source && user.limits_source[limit];
  if (src === 'override') return 'set for your account';
  if (src === 'default') return 'the server default';
  return 'source unknown';
}

boot(async ({ user }) => {
  $id('profile').append(
    h('dt', null, 'Email'), h('dd', { id: 'profile-email' }, user.email),
    h('dt', null, 'Role'), h('dd', null, user.role === 'admin' ? 'Administrator' : 'User'),
    h('dt', null, 'Member since'), h('dd', null, time(user.created_at)),
    h('dt', null, 'Monthly limits'),
    h('dd', { id: 'profile-limits' }, 'cost ', moneySpan(user.limits.max_monthly_cost),
      ` (${sourceText(user, 'max_monthly_cost')}), ${user.limits.max_articles_per_month} articles`,
      ` (${sourceText(user, 'max_articles_per_month')})`));
  $id('pw-username').value = user.email;
  showPrefix(user.api_key_prefix);

  confirmStep($id('rotate-key'), $id('rotate-confirm'), $id('rotate-yes'), $id('rotate-no'), async () => {
    const res = await post('/me/api-key');
    showPrefix(res.api_key_prefix);
    say('key-status', '');
    const box = clear($id('key-result'));
    box.append(keyBox(res.api_key));
    $id('new-key').focus();
  });
  confirmStep($id('delete-key'), $id('delete-key-confirm'), $id('delete-key-yes'), $id('delete-key-no'), async () => {
    await del('/me/api-key');
    showPrefix(null);
    clear($id('key-result'));
    say('key-status', 'The API key is removed. Create a new one when the pipeline needs it.', 'info');
    $id('rotate-key').focus();
  });

  const pw = $id('password-form');
  pw.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(pw);
    say('password-status', '');
    if (pw.new_password.value !== pw.new_password2.value) {
      fieldError(pw.new_password2, 'The two new passwords differ.');
      pw.new_password2.focus();
      return;
    }
    busy(pw, () => act(async () => {
      // The API signs every other session out and gives this browser a new
      // session cookie.
      await put('/me/password', { current_password: pw.current_password.value, new_password: pw.new_password.value });
      pw.reset();
      $id('pw-username').value = user.email;
      say('password-status', 'Password changed. Every other session is signed out.', 'ok');
    }, (err) => {
      if (!(err instanceof ApiError)) throw err;
      // a wrong current password is 401 invalid_credentials
      showError(pw, err, { invalid_credentials: 'current_password' });
    }));
  });

  const signOut = (all) => act(async () => {
    await post('/auth/logout', undefined, all ? { all: 'true' } : undefined);
    setSignedInHint(false);
    location.assign('/signin?signed_out=1');
  }, (err) => say('sessions-status', err.message, 'error'));
  $id('signout-here').addEventListener('click', () => signOut(false));
  $id('signout-all').addEventListener('click', () => signOut(true));

  const delForm = $id('delete-form');
  delForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(delForm);
    busy(delForm, () => act(async () => {
      await del('/me', { password: delForm.password.value });
      setSignedInHint(false);
      location.assign('/signin?deleted=1');
    }, (err) => {
      if (!(err instanceof ApiError)) throw err;
      showError(delForm, err, { invalid_credentials: 'password' });
    }));
  });
});
