import { fileURLToPath } from 'node:url';

/**
 * The project root, found from this file's place: `src/paths.ts` when run with tsx,
 * `dist/paths.js` when compiled. Both sit one level below the root, so assets kept in
 * `src/pages/` are found the same way in development and in production.
 */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const TEMPLATES_DIR = fileURLToPath(new URL('../src/pages/templates/', import.meta.url));
export const STATIC_DIR = fileURLToPath(new URL('../src/pages/static/', import.meta.url));
