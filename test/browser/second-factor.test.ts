/**
 * The two-step login in a real Chromium on a 390 px phone: an administrator who must have a second
 * factor is led through enrolment at login (QR code, the key as text, a code computed here as the
 * phone would), sees the recovery codes once and goes on to the page first asked for; the next
 * login asks for a code and lands on its deep link. Nothing scrolls sideways.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { browserGate, launchBrowser, screenshotPath } from '../helpers/browser.js';
import { useSuiteApp } from '../helpers/app.js';
import { SUPER } from '../helpers/people.js';
import { codeOf, MFA_ENV } from '../helpers/second-factor.js';

const PHONE = { width: 390, height: 844 };

describe('the second factor in a browser', browserGate(), () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  const { app } = useSuiteApp({ env: MFA_ENV });
  let baseUrl: string;
  before(async () => {
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  async function assertNoSidewaysScroll(page: Page, label: string) {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${label} scrolls sideways by ${overflow} px`);
  }

  async function logIn(page: Page, next: string) {
    await page.goto(`${baseUrl}${next}`);
    await page.waitForURL(/\/auth\/login\?next=/);
    await page.getByLabel('Email').fill(SUPER.username);
    await page.getByLabel('Password').fill(SUPER.password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  it('leads through enrolment at login, then asks for a code at the next login, keeping the deep link', async () => {
    const context = await browser.newContext({ viewport: PHONE });
    context.setDefaultTimeout(10_000);
    try {
      const page = await context.newPage();
      await logIn(page, '/emp/search');
      await page.waitForURL(`${baseUrl}/auth/mfa/totp/enrol?next=%2Femp%2Fsearch`);
      assert.equal(await page.locator('h1').innerText(), 'Set up an authenticator app');
      assert.ok(await page.locator('img.qr-code').evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0));
      await assertNoSidewaysScroll(page, 'the enrolment page');
      await page.screenshot({ path: screenshotPath('mfa-enrol-phone'), fullPage: true });
      // Another page before enrolment is done: back here.
      await page.goto(`${baseUrl}/admin/me`);
      await page.waitForURL(`${baseUrl}/auth/mfa/totp/enrol?next=%2Fadmin%2Fme`);
      await page.goto(`${baseUrl}/auth/mfa/totp/enrol?next=%2Femp%2Fsearch`);

      const secret = (await page.locator('#totp-secret').innerText()).trim();
      await page.getByLabel('Code from the app').fill(codeOf(secret, -1));
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.locator('#recovery-codes').waitFor();
      assert.equal(await page.locator('#recovery-codes li').count(), 10);
      await assertNoSidewaysScroll(page, 'the recovery codes page');
      await page.screenshot({ path: screenshotPath('mfa-codes-phone'), fullPage: true });
      await page.getByRole('link', { name: 'I have saved them: continue' }).click();
      await page.waitForURL(`${baseUrl}/emp/search`);

      await page.getByRole('button', { name: 'Logout' }).click();
      await page.waitForURL(/\/auth\/login/);
      await logIn(page, '/emp/search?last_name=nas');
      await page.waitForURL(`${baseUrl}/auth/mfa?next=%2Femp%2Fsearch%3Flast_name%3Dnas`);
      assert.equal(await page.locator('h1').innerText(), 'Confirm it is you');
      await assertNoSidewaysScroll(page, 'the second step');
      await page.getByLabel('Code').fill('000000');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('alert').waitFor();
      await page.screenshot({ path: screenshotPath('mfa-verify-phone'), fullPage: true });
      await page.getByLabel('Code').fill(codeOf(secret));
      await page.getByRole('button', { name: 'Continue' }).click();
      // The search form goes on to the results of the search it was given.
      await page.waitForURL(`${baseUrl}/emp/search/nas/%25`);
      await assertNoSidewaysScroll(page, 'the deep link after the second step');
    } finally {
      await context.close();
    }
  });
});
