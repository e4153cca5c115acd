import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // dist/ holds the built workflow bundle (npm run build:workflows), generated and not ours to lint.
  { ignores: ['node_modules/**', 'test-artifacts/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: false },
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no wall clock, no randomness.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@kubernetes/*',
                'axios',
                'prom-client',
                'node:*',
                'fs',
                'http',
                'https',
                'net',
                'child_process',
              ],
              message: 'workflows/ must stay deterministic: do I/O in activities/.',
              allowTypeImports: true,
            },
            {
              group: ['../activities/*', '../activities/**'],
              message: 'Import activities only as types and proxy them.',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'Use workflow time (Date is deterministic in workflows, but say why).',
        },
        { object: 'Math', property: 'random', message: 'Randomness breaks replay.' },
      ],
    },
  },
);
