import { ApiError, get, post, setSignedInHint, signedInHint } from '../api.js';
import { busy, clearErrors, safeNext, say, showError } from '../ui.js';
import { setState } from '../app.js';

const params = new URLSearchParams(location.search);
const next = safeNext(params.get('next'));
const form = document.getElementById('signin-form');

if (params.has('signed_out')) say('notice', 'You are signed out.');
else if (params.has('deleted')) say('notice', 'Your account and everything it owned have been deleted.');
else if (params.has('next')) say('notice', 'Sign in to continue.');

async function alreadySignedIn() {
  if (!signedInHint()) return false;
  try {
    await get('/me');
    return true;
  } catch (err) {
    setSignedInHint(false);
    return false;
  }
}

if (await alreadySignedIn()) {
  location.replace(next);
} else {
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    busy(form, async () => {
      try {
        await post('/auth/login', { email: form.email.value, password: form.password.value });
        setSignedInHint(true);
        location.assign(next);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        // One message for a wrong email or password: under the password.
        showError(form, err, { invalid_credentials: 'password' });
        if (err.code === 'invalid_credentials') form.password.value = '';
      }
    });
  });
  form.email.focus();
  setState('ready');
}
