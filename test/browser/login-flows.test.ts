/**
 * The seed post's browser scenarios in a real Chromium: the app's own login page, Swagger UI's
 * Authorize button, and one session shared between them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserGate, launchBrowser, screenshotPath } from '../helpers/browser.js';
import { SEED_USER, testEnvironment, type TestEnvironment } from '../helpers/app.js';

describe('logging in from a browser', browserGate(), () => {
  let env: TestEnvironment;
  let app: FastifyInstance;
  let browser: Browser;
  let baseUrl: string;

  before(async () => {
    env = testEnvironment('sqlite');
    app = await env.start();
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await env?.cleanup();
  });

  async function sessionCookie(context: BrowserContext) {
    return (await context.cookies(baseUrl)).find((cookie) => cookie.name === 'session');
  }

  async function logInOnThePage(page: Page) {
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Email').fill(SEED_USER.username);
    await page.getByLabel('Password').fill(SEED_USER.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${baseUrl}/auth/home`);
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

  it('logs in on the login page, reaches home, and sees My Info', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${baseUrl}/`);
      assert.equal(await page.title(), 'Login · Employees Portal');
      await page.screenshot({ path: screenshotPath('login'), fullPage: true });
      await logInOnThePage(page);
      assert.match(await page.locator('h1').innerText(), /Welcome, Be Hai Doe/);
      await page.screenshot({ path: screenshotPath('home'), fullPage: true });

      const cookie = await sessionCookie(context);
      assert.ok(cookie, 'the browser holds a session cookie');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');

      await page.getByRole('link', { name: 'My Info' }).click();
      await page.waitForURL(`${baseUrl}/admin/me`);
      assert.match(await page.locator('body').innerText(), /"emp_no":\s*500222/);
    } finally {
      await context.close();
    }
  });

  it('uses a page login in Swagger UI, and a Swagger logout ends it everywhere', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await logInOnThePage(page);
      const cookie = (await sessionCookie(context))!;

      await page.goto(`${baseUrl}/docs/`);
      const me = await runInSwagger(page, 'employees-get_admin_me');
      assert.equal(me.status, '200');
      assert.match(me.body, /behai_nguyen@hotmail\.com/);
      await page.screenshot({ path: screenshotPath('swagger-me-by-cookie'), fullPage: true });

      const logout = await runInSwagger(page, 'auth-post_auth_logout');
      assert.equal(logout.status, '200');
      assert.equal(await sessionCookie(context), undefined, 'the cookie is gone');
      assert.equal(await app.sessionStore.get(cookie.value.split('.')[0]!), undefined, 'the stored session is gone');

      await page.goto(`${baseUrl}/auth/home`);
      await page.waitForURL(`${baseUrl}/auth/login?state=2`);
    } finally {
      await context.close();
    }
  });

  it("logs in through Swagger UI's Authorize button and calls /admin/me", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${baseUrl}/docs/`);
      await page.locator('.auth-wrapper .authorize').click();
      const dialog = page.locator('.modal-ux');
      const oauth2 = dialog.locator('.auth-container', { has: page.locator('#oauth_username') });
      await oauth2.locator('#oauth_username').fill(SEED_USER.username);
      await oauth2.locator('#oauth_password').fill(SEED_USER.password);
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
    } finally {
      await context.close();
    }
  });
});
