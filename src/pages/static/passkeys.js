// Passkey ceremonies for the pages (no inline scripts: CSP script-src 'self'). Each step asks the
// server for options, lets the browser talk to the authenticator through @simplewebauthn/browser
// (/static/vendor/simplewebauthn/, loaded before this file), and posts the answer back as JSON. The
// page works without this script too: the forms then say passkeys need JavaScript.
'use strict';

(function () {
  const webauthn = globalThis.SimpleWebAuthnBrowser;

  /** POSTs JSON with the page's form token; resolves to the parsed answer, or throws its detail. */
  async function post(url, csrf, body) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...body, _csrf: csrf }),
      credentials: 'same-origin',
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.detail || `The server answered ${response.status}`);
    return answer;
  }

  /** What went wrong, in words, in the form's status line. */
  function report(status, error) {
    const cancelled = error && (error.name === 'NotAllowedError' || error.name === 'AbortError');
    status.textContent = cancelled ? 'The passkey request was cancelled or timed out. Try again.' : String(error.message || error);
    status.hidden = false;
  }

  /** A form that registers a new passkey under the name typed into it. */
  function wireRegistration(form) {
    const status = form.querySelector('[data-passkey-status]');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = form.elements.namedItem('name').value;
      const { csrf, next } = form.dataset;
      status.hidden = true;
      void (async () => {
        try {
          const optionsJSON = await post('/auth/mfa/passkeys/registration/options', csrf, {});
          const response = await webauthn.startRegistration({ optionsJSON });
          const done = await post('/auth/mfa/passkeys/registration', csrf, { name, response, ...(next ? { next } : {}) });
          window.location.assign(done.next);
        } catch (error) {
          report(status, error);
        }
      })();
    });
  }

  /** A button that proves a passkey as the second step of a login. */
  function wireAuthentication(button) {
    const status = document.querySelector('[data-passkey-status]');
    button.addEventListener('click', () => {
      const { csrf, next } = button.dataset;
      status.hidden = true;
      void (async () => {
        try {
          const optionsJSON = await post('/auth/mfa/passkeys/authentication/options', csrf, {});
          const response = await webauthn.startAuthentication({ optionsJSON });
          const done = await post('/auth/mfa/passkeys/authentication', csrf, { response, ...(next ? { next } : {}) });
          window.location.assign(done.next);
        } catch (error) {
          report(status, error);
        }
      })();
    });
  }

  const supported = webauthn && webauthn.browserSupportsWebAuthn();
  for (const element of document.querySelectorAll('[data-passkey-needs-support]')) element.hidden = !supported;
  for (const element of document.querySelectorAll('[data-passkey-unsupported]')) element.hidden = Boolean(supported);
  if (!supported) return;
  for (const form of document.querySelectorAll('form[data-passkey-register]')) wireRegistration(form);
  for (const button of document.querySelectorAll('button[data-passkey-login]')) wireAuthentication(button);
})();
