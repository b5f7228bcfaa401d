/**
 * The application as a person uses it, in a real Chromium: the app's own pages from login to
 * logout, Swagger UI's Authorize button, and one session shared between the two.
 * A screenshot of every page lands in test-output/screenshots/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserGate, launchBrowser, screenshotPath } from '../helpers/browser.js';
import { useSuiteApp } from '../helpers/app.js';
import { ADMIN, U1 } from '../helpers/people.js';

describe('the application in a browser', browserGate(), () => {
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

  async function sessionCookie(context: BrowserContext) {
    return (await context.cookies(baseUrl)).find((cookie) => cookie.name === 'session');
  }

  async function logInOnThePage(page: Page, user: { username: string; password: string } = U1) {
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Email').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${baseUrl}/auth/home`);
  }

  async function withPage(work: (page: Page, context: BrowserContext) => Promise<void>) {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    try {
      await work(await context.newPage(), context);
    } finally {
      await context.close();
    }
  }

  /** Opens an operation in Swagger UI, runs it, and returns the status and body it shows. */
  async function runInSwagger(page: Page, operationId: string): Promise<{ status: string; body: string }> {
    const operation = page.locator(`#operations-${operationId}`);
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const response = operation.locator('.live-responses-table .response').first();
    await response.waitFor();
    const status = (await response.locator('.response-col_status').innerText()).trim();
    const body = await response.locator('.response-col_description').innerText();
    return { status, body };
  }

  it('logs in, opens My details, edits its own record and logs out', async () => {
    await withPage(async (page, context) => {
      await page.goto(`${baseUrl}/`);
      assert.equal(await page.title(), 'Login · Employees Portal');
      await page.screenshot({ path: screenshotPath('login'), fullPage: true });

      await logInOnThePage(page);
      assert.match(await page.locator('h1').innerText(), /Welcome, Be Hai Doe/);
      // behai has user:read and user:write only: the administrator's actions are greyed out.
      assert.equal(await page.getByText('Search Employees').getAttribute('aria-disabled'), 'true');
      await page.screenshot({ path: screenshotPath('home'), fullPage: true });
      const cookie = await sessionCookie(context);
      assert.equal(cookie?.httpOnly, true);
      assert.equal(cookie?.sameSite, 'Lax');

      await page.getByRole('main').getByRole('link', { name: 'My details', exact: true }).click();
      await page.waitForURL(`${baseUrl}/admin/me`);
      assert.equal(await page.title(), 'My details · Employees Portal');
      assert.match(await page.locator('dl.record').innerText(), /500222[\s\S]*behai_nguyen@hotmail\.com[\s\S]*09\/12\/1978/);
      await page.screenshot({ path: screenshotPath('my-info'), fullPage: true });

      await page.getByRole('link', { name: 'Edit my details' }).click();
      await page.waitForURL(`${baseUrl}/emp/own-get-update/500222`);
      await page.getByLabel('Hire date (dd/mm/yyyy)').fill('18/1/2018');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(`${baseUrl}/emp/own-get-update/500222?saved=1`);
      assert.equal(await page.getByRole('status').innerText(), 'Saved.');
      assert.equal(await page.getByLabel('Hire date (dd/mm/yyyy)').inputValue(), '18/01/2018');
      await page.screenshot({ path: screenshotPath('edit-own'), fullPage: true });

      await page.getByLabel('First name').fill('');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('#firstName-error').waitFor();
      assert.equal(await page.locator('#firstName-error').innerText(), 'For first name, please enter between 1 and 14 characters');
      assert.equal(await page.getByLabel('First name').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByLabel('Email').inputValue(), 'behai_nguyen@hotmail.com');
      await page.screenshot({ path: screenshotPath('edit-own-invalid'), fullPage: true });

      await page.locator('header').getByRole('button', { name: 'Logout' }).click();
      await page.waitForURL(`${baseUrl}/auth/login`);
      assert.match(await page.getByRole('status').innerText(), /You have been logged out/);
      assert.equal(await sessionCookie(context), undefined);
      await page.goto(`${baseUrl}/auth/home`);
      await page.waitForURL(`${baseUrl}/auth/login`);
      assert.equal(await page.getByRole('status').innerText(), 'Please log in to continue');
    });
  });

  it('lets an administrator search, open a result and add an employee', async () => {
    await withPage(async (page) => {
      await logInOnThePage(page, ADMIN);
      await page.getByRole('link', { name: 'Search Employees' }).first().click();
      await page.waitForURL(`${baseUrl}/emp/search`);
      await page.screenshot({ path: screenshotPath('search'), fullPage: true });
      await page.getByLabel('Last name').fill('%nas%');
      await page.getByLabel('First name').fill('%an');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(`${baseUrl}/emp/search/%25nas%25/%25an`);
      const rows = page.locator('table.results tbody tr');
      assert.ok((await rows.count()) >= 2);
      await page.screenshot({ path: screenshotPath('results'), fullPage: true });

      await page.getByRole('link', { name: '12483' }).click();
      await page.waitForURL(`${baseUrl}/emp/admin-get-update/12483`);
      assert.equal(await page.getByLabel('First name').inputValue(), 'Niranjan');
      await page.screenshot({ path: screenshotPath('edit-admin'), fullPage: true });

      await page.getByRole('link', { name: 'Add a New Employee' }).click();
      await page.waitForURL(`${baseUrl}/emp/new`);
      await page.getByLabel('Email').fill('new.person@example.com');
      await page.getByLabel('Password').fill('a good long password');
      await page.getByLabel('Birth date (dd/mm/yyyy)').fill('25/12/1971');
      await page.getByLabel('First name').fill('New');
      await page.getByLabel('Last name').fill('Person');
      await page.getByLabel('Gender').selectOption('F');
      await page.getByLabel('Hire date (dd/mm/yyyy)').fill('17/9/1995');
      await page.screenshot({ path: screenshotPath('new-employee'), fullPage: true });
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/\/emp\/admin-get-update\/\d+\?saved=1$/);
      const empNo = Number(await page.getByLabel('Employee number').inputValue());
      assert.ok(empNo > 500222);
      assert.equal(await page.getByLabel('Email').inputValue(), 'new.person@example.com');
    });
  });

  it('uses a page login in Swagger UI, and a Swagger logout ends it everywhere', async () => {
    await withPage(async (page, context) => {
      await logInOnThePage(page);
      const cookie = (await sessionCookie(context))!;

      await page.goto(`${baseUrl}/docs/`);
      const me = await runInSwagger(page, 'employees-get_admin_me');
      assert.equal(me.status, '200');
      assert.match(me.body, /behai_nguyen@hotmail\.com/);
      await page.screenshot({ path: screenshotPath('swagger-me-by-cookie'), fullPage: true });

      const logout = await runInSwagger(page, 'auth-post_auth_logout');
      assert.equal(logout.status, '200');
      assert.match(logout.body, /"message": "You have been logged out"/, 'Swagger UI shows the JSON answer, not a page');
      assert.equal(await sessionCookie(context), undefined, 'the cookie is gone');
      assert.equal(await app.sessionStore.get(cookie.value.split('.')[0]!), undefined, 'the stored session is gone');

      await page.goto(`${baseUrl}/auth/home`);
      await page.waitForURL(`${baseUrl}/auth/login`);
    });
  });

  it("logs in through Swagger UI's Authorize button and calls /admin/me", async () => {
    await withPage(async (page, context) => {
      await page.goto(`${baseUrl}/docs/`);
      await page.locator('.auth-wrapper .authorize').click();
      const dialog = page.locator('.modal-ux');
      const oauth2 = dialog.locator('.auth-container', { has: page.locator('#oauth_username') });
      assert.equal(await oauth2.locator('input[type=checkbox]').count(), 6, 'the six scopes are offered');
      await oauth2.locator('#oauth_username').fill(U1.username);
      await oauth2.locator('#oauth_password').fill('not the password');
      await oauth2.getByRole('button', { name: 'Apply given OAuth2 credentials' }).click();
      // The token endpoint's OAuth2 error fields reach the dialog, not a bare "Bad Request".
      await oauth2.getByText(/Incorrect username or password/).waitFor();
      assert.match(await oauth2.innerText(), /invalid_grant/);
      await oauth2.locator('#oauth_password').fill(U1.password);
      await oauth2.getByRole('button', { name: 'Apply given OAuth2 credentials' }).click();
      await dialog.getByRole('button', { name: 'Remove authorization' }).waitFor();
      await page.screenshot({ path: screenshotPath('swagger-authorized'), fullPage: true });
      await dialog.getByRole('button', { name: 'Close' }).first().click();

      const me = await runInSwagger(page, 'employees-get_admin_me');
      assert.equal(me.status, '200');
      assert.match(me.body, /"emp_no": 500222/);
      // The same login also logged the browser's cookie session in: the home page opens.
      assert.ok(await sessionCookie(context));
      await page.goto(`${baseUrl}/auth/home`);
      assert.match(await page.locator('h1').innerText(), /Welcome, Be Hai Doe/);
    });
  });
});
