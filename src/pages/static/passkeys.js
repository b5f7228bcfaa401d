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

  /**
   * One ceremony: options from the server, the browser's answer (`run`), the answer posted back,
   * then on to where the server says; what fails is shown in `status`.
   */
  async function ceremony(status, csrf, steps) {
    status.hidden = true;
    try {
      const optionsJSON = await post(steps.optionsUrl, csrf, {});
      const response = await steps.run({ optionsJSON });
      const done = await post(steps.answerUrl, csrf, { ...steps.body, response });
      window.location.assign(done.next);
    } catch (error) {
      report(status, error);
    }
  }

  /** A form that registers a new passkey under the name typed into it. */
  function wireRegistration(form) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const { csrf, next } = form.dataset;
      const name = form.elements.namedItem('name').value;
      void ceremony(form.querySelector('[data-passkey-status]'), csrf, {
        optionsUrl: '/auth/mfa/passkeys/registration/options',
        run: webauthn.startRegistration,
        answerUrl: '/auth/mfa/passkeys/registration',
        body: { name, ...(next ? { next } : {}) },
      });
    });
  }

  /** A button that proves a passkey as the second step of a login. */
  function wireAuthentication(button) {
    button.addEventListener('click', () => {
      const { csrf, next } = button.dataset;
      void ceremony(document.querySelector('[data-passkey-status]'), csrf, {
        optionsUrl: '/auth/mfa/passkeys/authentication/options',
        run: webauthn.startAuthentication,
        answerUrl: '/auth/mfa/passkeys/authentication',
        body: next ? { next } : {},
      });
    });
  }

  const supported = webauthn && webauthn.browserSupportsWebAuthn();
  for (const element of document.querySelectorAll('[data-passkey-needs-support]')) element.hidden = !supported;
  for (const element of document.querySelectorAll('[data-passkey-unsupported]')) element.hidden = Boolean(supported);
  if (!supported) return;
  for (const form of document.querySelectorAll('form[data-passkey-register]')) wireRegistration(form);
  for (const button of document.querySelectorAll('button[data-passkey-login]')) wireAuthentication(button);
})();
