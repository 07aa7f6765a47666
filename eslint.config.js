// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layerRules } from './eslint.layers.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', '.bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      'no-console': 'off',
    },
  },
  // Imports point one way only: eslint.layers.js says which layer may import which.
  ...layerRules(),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // chai's `expect(x).to.be.true` style and non-null assertions on known test data.
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['eslint.config.js', 'eslint.layers.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The web app's browser scripts: plain ES modules served as they are (no build step).
    files: ['adapters/web/static/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'sessionStorage',
          'navigator',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'URL',
          'URLSearchParams',
          'FormData',
          'Intl',
          'CSS',
          'Node',
          'Element',
          'Event',
          'EventListener',
          'HTMLElement',
          'HTMLButtonElement',
          'HTMLDialogElement',
          'HTMLDetailsElement',
          'HTMLFormElement',
          'HTMLInputElement',
          'HTMLSelectElement',
          'HTMLUListElement',
          'SubmitEvent',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // The example channel plugin: plain ES modules for Node and mocha, as a plugin author writes
    // them (typed through JSDoc; `tsc -p examples/channel-plugin` checks them).
    files: ['examples/**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'describe',
          'it',
          'before',
          'after',
          'beforeEach',
          'afterEach',
          'fetch',
          'AbortSignal',
          'URL',
          'setTimeout',
          'clearTimeout',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
