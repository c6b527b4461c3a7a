// Type-aware linting for the whole TypeScript tree. The strict preset catches the unsafe `any` flows and
// floating promises that a server like this one cannot afford; the few rules relaxed below say why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'certs/', 'docs/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Template literals with numbers and booleans read naturally in log and error messages.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `() => res.end()` in callbacks is idiomatic; the rule's point is statements, not arrow shorthands.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // With noUncheckedIndexedAccess every indexed read is optional; after a check the compiler cannot follow
      // (a length test, a lookup in a table just built), `!` says so more plainly than a dead branch.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Unused arguments are part of callback signatures (express error handlers, stream callbacks).
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', ignoreRestSiblings: true, caughtErrors: 'none' }],
    },
  },
  {
    // The outbound side consumes events from whichever org publishes them; what it shares with the local
    // org's publishing side is the contract in src/contract/, never the local org itself.
    files: ['src/outbound/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/local-org/**'], message: 'src/outbound/ knows nothing of the local org: import the contract.' }] },
      ],
    },
  },
  {
    files: ['src/store/migrations/**/*.ts'],
    rules: {
      // A migration runs against the schema as it was when the migration was written, not against today's
      // Tables type, so it takes Kysely<any> (Kysely's documented pattern for migrations).
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // node:test's describe/it return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': 'off',
      // Tests read the server's untyped JSON answers and assert on them field by field: the assertion is
      // the type check, so declaring a type for every answer would only restate it.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
