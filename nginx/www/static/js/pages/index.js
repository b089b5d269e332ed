// "/": a browser that signed in before goes on to its articles (which sends
// it to the sign-in page if the session has ended); anyone else stays on
// this page, with its links to sign in or sign up.
import { signedInHint } from '../api.js';
import { setState } from '../app.js';

if (signedInHint()) location.replace('/articles');
else setState('ready');
