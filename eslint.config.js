// @ts-check
/**
 * ESLint: typescript-eslint's type-aware recommended rules over every TypeScript and script file
 * (src, test, bench, chaos, scripts). `npm run lint` runs it after `tsc` and before `prettier --check`;
 * formatting is Prettier's job alone (.prettierrc.json), so no rule here is about layout.
 * A rule of the recommended set that is turned off carries the reason on its line.
 */
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'data/', 'test-output/', 'bench/results/', 'scratch/'] },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // tsconfig.json covers the TypeScript; the few plain JavaScript files get a default program.
        projectService: { allowDefaultProject: ['eslint.config.js', 'scripts/*.mjs', 'src/pages/static/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits loses its rejection and races what follows: a bug. node:test's
      // describe/it return promises the runner itself tracks, so those calls are exempt.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Off: an `async` function without `await` is deliberate here: Fastify plugins and the SQLite
      // store implement async contracts synchronously, and `async` turns their throws into rejections.
      '@typescript-eslint/require-await': 'off',
      // Off: `String(value)` is the deliberate last resort for values of unknown shape (a thrown
      // non-Error, a field of a parsed log line); the rule flags exactly those.
      '@typescript-eslint/no-base-to-string': 'off',
      // `cond ? await a() : b()` as a statement is used on purpose in the micro-benchmarks.
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }],
    },
  },
  {
    // Kysely's convention: migrations and dialect helpers take `Kysely<any>`, as they must work on
    // any schema version rather than on today's `Database` type.
    files: ['src/database/**/*.ts', 'test/helpers/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests read fields of parsed JSON bodies (`response.json()` is `any`) before asserting whole
    // bodies, and build messages and fuzz input from loosely typed values; typing each is noise.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    // Plain JavaScript has no types, so every value is `any` to the no-unsafe-* rules; it runs on Node.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The pages' own scripts run in the browser, beside @simplewebauthn/browser's bundle.
    files: ['src/pages/static/*.js'],
    languageOptions: { globals: { ...globals.browser, SimpleWebAuthnBrowser: 'readonly' } },
  },
);
