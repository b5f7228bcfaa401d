/// <reference lib="dom" />
/**
 * The portal as a new user meets it, in a real Chromium, on a 390 px phone and on a desktop:
 * every page fits the screen (no sideways scroll), passes an axe-core accessibility scan with no
 * serious or critical violation, in light and dark mode, and no journey ends in a dead end.
 * Screenshots of every page land in test-output/screenshots/ (phone-*, desktop-*, dark-*).
 */
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserGate, launchBrowser, screenshotPath } from '../helpers/browser.js';
import { useSuiteApp } from '../helpers/app.js';
import { ADMIN, SUPER, U1, USER_READ as READER } from '../helpers/people.js';

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

type Viewport = typeof PHONE;
type User = { username: string; password: string };

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown }>;
}

describe('the portal on a phone and a desktop', browserGate(), () => {
  // The browser is closed before the app (its hooks come first), as it always was: the app's
  // close then finds no browser connection open.
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  const { app } = useSuiteApp();
  let baseUrl: string;
  before(async () => {
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  /**
   * A fresh browser profile. `bypassCSP` lets axe-core be injected (the app's CSP rightly refuses
   * inline scripts); the Swagger UI test turns it off to see the CSP as a visitor meets it.
   */
  async function withContext(
    options: { viewport: Viewport; colorScheme?: 'light' | 'dark'; bypassCSP?: boolean },
    work: (page: Page, context: BrowserContext) => Promise<void>,
  ) {
    const context = await browser.newContext({
      viewport: options.viewport,
      colorScheme: options.colorScheme ?? 'light',
      bypassCSP: options.bypassCSP ?? true,
    });
    context.setDefaultTimeout(10_000);
    try {
      await work(await context.newPage(), context);
    } finally {
      await context.close();
    }
  }

  async function logIn(page: Page, user: User) {
    await page.goto(`${baseUrl}/auth/login`);
    await page.getByLabel('Email').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${baseUrl}/auth/home`);
  }

  /** axe-core's verdict on the page as it is now: the serious and critical violations. */
  async function seriousViolations(page: Page): Promise<string[]> {
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE_PATH });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
      return (await axe.run()).violations;
    });
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.help}): ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  }

  async function horizontalOverflow(page: Page): Promise<number> {
    return page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth);
  }

  /** Opens each page, then checks fit and accessibility and takes a screenshot. */
  async function checkPages(page: Page, prefix: string, pages: Array<[name: string, path: string]>) {
    for (const [name, path] of pages) {
      await page.goto(`${baseUrl}${path}`);
      await checkCurrentPage(page, `${prefix}-${name}`);
    }
  }

  async function checkCurrentPage(page: Page, shot: string) {
    assert.ok((await horizontalOverflow(page)) <= 0, `${shot}: the page scrolls sideways by ${await horizontalOverflow(page)} px`);
    assert.deepEqual(await seriousViolations(page), [], `${shot}: accessibility`);
    await page.screenshot({ path: screenshotPath(shot), fullPage: true });
  }

  const ADMIN_PAGES: Array<[string, string]> = [
    ['home', '/auth/home'],
    ['my-details', '/admin/me'],
    ['search', '/emp/search'],
    ['results', '/emp/search/nas/%25'],
    ['employee', '/emp/admin-get-update/10399'],
    ['employee-self', '/emp/admin-get-update/10005'],
    ['employee-super', '/emp/admin-get-update/10011'],
    ['employee-sessions', '/emp/sessions/500222'],
    ['new-employee', '/emp/new'],
    ['my-sessions', '/auth/sessions'],
    ['password', '/auth/password'],
    ['second-factor', '/auth/mfa/settings'],
    ['passkeys', '/auth/mfa/passkeys'],
    ['not-found', '/emp/admin-get-update/499999'],
    ['unknown-address', '/no/such/page'],
    ['search-invalid', `/emp/search?last_name=${'x'.repeat(17)}&first_name=`],
  ];

  for (const [label, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    it(`fits every page on a ${label} (${viewport.width} px) with no serious accessibility violation`, async () => {
      await withContext({ viewport }, async (page) => {
        await page.goto(`${baseUrl}/auth/login`);
        await checkCurrentPage(page, `${label}-login`);
        await logIn(page, ADMIN);
        // A second session, so My sessions lists two.
        await withContext({ viewport }, async (other) => logIn(other, U1));
        await checkPages(page, label, ADMIN_PAGES);

        await page.goto(`${baseUrl}/emp/admin-get-update/10399`);
        await page.getByRole('button', { name: 'Disable login' }).click();
        await page.getByRole('heading', { name: /Disable the login of/ }).waitFor();
        await checkCurrentPage(page, `${label}-confirm`);
      });
      await withContext({ viewport }, async (page) => {
        await logIn(page, READER);
        await checkPages(page, label, [
          ['reader-home', '/auth/home'],
          ['reader-own-record', '/emp/own-get-update/262556'],
          ['forbidden', '/emp/search'],
        ]);
      });
      await withContext({ viewport }, async (page) => {
        await logIn(page, SUPER);
        await checkPages(page, label, [
          ['audit', '/audit'],
          ['audit-filtered', '/audit?action=login&limit=3'],
        ]);
      });
    });
  }

  it('keeps contrast and layout in dark mode', async () => {
    await withContext({ viewport: PHONE, colorScheme: 'dark' }, async (page) => {
      await page.goto(`${baseUrl}/auth/login`);
      await checkCurrentPage(page, 'dark-login');
      await logIn(page, ADMIN);
      await checkPages(page, 'dark', [
        ['home', '/auth/home'],
        ['results', '/emp/search/nas/%25'],
        ['employee', '/emp/admin-get-update/10399'],
        ['my-sessions', '/auth/sessions'],
      ]);
      assert.equal(
        await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor),
        'rgb(18, 21, 28)',
        'the dark background',
      );
    });
  });

  it('gives input borders and the focus ring at least 3:1 against the card, in both schemes (WCAG 1.4.11)', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await withContext({ viewport: DESKTOP, colorScheme }, async (page) => {
        await page.goto(`${baseUrl}/auth/login`);
        await page.getByLabel('Email').focus();
        const colours = await page.evaluate(() => {
          const input = document.querySelector('#username')!;
          const card = document.querySelector('.card')!;
          const style = getComputedStyle(input);
          return {
            border: getComputedStyle(document.querySelector('#password')!).borderTopColor,
            outline: style.outlineColor,
            card: getComputedStyle(card).backgroundColor,
          };
        });
        assert.ok(contrast(colours.border, colours.card) >= 3, `${colorScheme} border ${colours.border} on ${colours.card}`);
        assert.ok(contrast(colours.outline, colours.card) >= 3, `${colorScheme} focus ring ${colours.outline} on ${colours.card}`);
      });
    }
  });

  it('takes a deep link through the login, keeping the email after a wrong password', async () => {
    await withContext({ viewport: PHONE }, async (page) => {
      await page.goto(`${baseUrl}/emp/admin-get-update/10399`);
      await page.waitForURL(`${baseUrl}/auth/login?next=%2Femp%2Fadmin-get-update%2F10399`);
      assert.equal(await page.getByRole('status').innerText(), 'Please log in to continue');
      await page.getByLabel('Email').fill(ADMIN.username);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /Incorrect username or password/);
      assert.equal(await page.getByLabel('Email').inputValue(), ADMIN.username, 'the email is kept');
      assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');
      await page.screenshot({ path: screenshotPath('phone-login-failed'), fullPage: true });
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${baseUrl}/emp/admin-get-update/10399`);
      assert.equal(await page.getByLabel('First name').inputValue(), 'Guenter');
    });
  });

  it('searches for what a person types, and shows a wrong search on the form', async () => {
    await withContext({ viewport: PHONE }, async (page) => {
      await logIn(page, ADMIN);
      await page.goto(`${baseUrl}/emp/search`);
      assert.equal(await page.getByLabel('Last name').inputValue(), '', 'no example values, only placeholders');
      assert.equal(await page.getByLabel('Last name').getAttribute('placeholder'), 'e.g. nas');
      await page.getByLabel('Last name').fill('Gornas');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(`${baseUrl}/emp/search/Gornas/%25`);
      assert.equal(await page.locator('table.results tbody tr').count(), 2);

      await page.goto(`${baseUrl}/emp/search`);
      await page.getByLabel('Last name').fill('x'.repeat(20));
      await page.getByLabel('First name').fill('An');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator('#lastName-error').waitFor();
      assert.equal(await page.getByLabel('Last name').inputValue(), 'x'.repeat(20));
      assert.equal(await page.getByLabel('First name').inputValue(), 'An');
      assert.equal(await page.getByLabel('Last name').getAttribute('aria-invalid'), 'true');
    });
  });

  it('echoes an impossible date as typed and marks every invalid field', async () => {
    await withContext({ viewport: DESKTOP }, async (page) => {
      await logIn(page, U1);
      await page.goto(`${baseUrl}/emp/own-get-update/500222`);
      await page.getByLabel('Birth date (dd/mm/yyyy)').fill('2099-13-45');
      await page.getByLabel('First name').fill('');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('#firstName-error').waitFor();
      assert.equal(await page.getByLabel('Birth date (dd/mm/yyyy)').inputValue(), '2099-13-45');
      for (const label of ['Birth date (dd/mm/yyyy)', 'First name']) {
        assert.equal(await page.getByLabel(label).getAttribute('aria-invalid'), 'true', label);
      }
      assert.deepEqual(await seriousViolations(page), []);
      await page.screenshot({ path: screenshotPath('desktop-edit-invalid'), fullPage: true });
    });
  });

  it('confirms ending all sessions without JavaScript, and logs out to the login page (POST/redirect/GET)', async () => {
    const context = await browser.newContext({ viewport: PHONE, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await logIn(page, U1);
      await page.goto(`${baseUrl}/auth/sessions`);
      await page.getByRole('button', { name: 'End all my sessions' }).click();
      await page.getByRole('heading', { name: 'End all your sessions?' }).waitFor();
      await page.getByRole('link', { name: 'Cancel' }).click();
      await page.waitForURL(`${baseUrl}/auth/sessions`);
      assert.match(await page.locator('tbody tr').first().innerText(), /\(this one\)/);

      await page.locator('header').getByRole('button', { name: 'Logout' }).click();
      await page.waitForURL(`${baseUrl}/auth/login`);
      assert.equal(await page.getByRole('status').innerText(), 'You have been logged out');
      await page.reload();
      assert.equal(page.url(), `${baseUrl}/auth/login`, 'a reload asks for the login page again, nothing is posted');
    } finally {
      await context.close();
    }
  });

  it('serves a favicon and loads Swagger UI without a Content-Security-Policy error', async () => {
    await withContext({ viewport: DESKTOP, bypassCSP: false }, async (page) => {
      const failures: string[] = [];
      const console: string[] = [];
      page.on('response', (response) => {
        if (response.status() >= 400) failures.push(`${response.status()} ${response.url()}`);
      });
      page.on('console', (message) => {
        if (message.type() === 'error') console.push(message.text());
      });
      await logIn(page, U1);
      await page.goto(`${baseUrl}/docs/`);
      await page.locator('#operations-auth-post_auth_logout').waitFor();
      const favicon = await page.request.get(`${baseUrl}/static/favicon.svg`);
      assert.equal(favicon.status(), 200);
      assert.match(favicon.headers()['content-type'] ?? '', /image\/svg\+xml/);
      const legacy = await page.request.get(`${baseUrl}/favicon.ico`);
      assert.equal(legacy.status(), 200, '/favicon.ico leads to the icon');
      assert.deepEqual(failures, []);
      assert.deepEqual(
        console.filter((text) => /Content.Security.Policy/i.test(text)),
        [],
      );
    });
  });
});

/** WCAG 2.1 contrast ratio of two computed `rgb(...)` colours. */
function contrast(a: string, b: string): number {
  const luminance = (rgb: string) => {
    const [r, g, bl] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}
