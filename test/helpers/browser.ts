/**
 * A real browser for page tests: Debian's Chromium driven by playwright-core (never a downloaded
 * browser). Missing Chromium skips the browser suites on a developer machine and fails them under CI.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/paths.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(PROJECT_ROOT, 'test-output', 'screenshots');

export function browserGate(): { skip: string | false } {
  if (existsSync(CHROMIUM_PATH)) return { skip: false };
  const reason = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium)`;
  if (process.env.CI === 'true') {
    it('needs chromium', () => {
      throw new Error(`${reason}, and CI=true requires it`);
    });
  } else {
    it('needs chromium', { skip: reason }, () => {});
  }
  return { skip: reason };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // This machine has no network beyond loopback: keep Chromium from trying to phone home.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, `${name}.png`);
}
