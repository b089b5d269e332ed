import { ApiError, get, post, setSignedInHint } from '../api.js';
import { busy, clearErrors, fieldError, keyBox, showError } from '../ui.js';
import { setState } from '../app.js';

const form = document.getElementById('signup-form');

function closed() {
  form.hidden = true;
  document.getElementById('have-account').hidden = true;
  const box = document.getElementById('closed');
  box.hidden = false;
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  clearErrors(form);
  if (form.password.value !== form.password2.value) {
    fieldError(form.password2, 'The two passwords differ.');
    form.password2.focus();
    return;
  }
  busy(form, async () => {
    try {
      // Registration signs the new user in (it sets the session cookie) and
      // shows the API key, once.
      const res = await post('/auth/register', { email: form.email.value, password: form.password.value });
      setSignedInHint(true);
      form.hidden = true;
      document.getElementById('have-account').hidden = true;
      document.getElementById('welcome-key').append(keyBox(res.api_key));
      const welcome = document.getElementById('welcome');
      welcome.hidden = false;
      document.getElementById('welcome-h').focus();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'registration_disabled') {
        closed();
        return;
      }
      showError(form, err, { email_taken: 'email' });
    }
  });
});

// Whether registration is open is known before the form is filled. If the
// question fails, the form stays: registering answers it anyway.
async function start() {
  let open = true;
  try {
    open = (await get('/auth/config')).registration_open !== false;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  }
  if (open) {
    form.hidden = false;
    form.email.focus();
  } else {
    closed();
  }
  setState('ready');
}

start();
