import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root, found from this file's place: `src/paths.ts` when run with tsx,
 * `dist/paths.js` when compiled. Both sit one level below the root, so assets kept in
 * `src/pages/` are found the same way in development and in production.
 */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const TEMPLATES_DIR = fileURLToPath(new URL('../src/pages/templates/', import.meta.url));
export const STATIC_DIR = fileURLToPath(new URL('../src/pages/static/', import.meta.url));

/**
 * @simplewebauthn/browser's one-file bundle, served from our own origin (CSP script-src 'self', no
 * CDN): found through Node's own resolution, so wherever npm installed the package.
 */
export const WEBAUTHN_BROWSER_DIR = join(
  dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
  '..',
  'dist',
  'bundle',
);
export const WEBAUTHN_BROWSER_FILE = 'index.umd.min.js';
