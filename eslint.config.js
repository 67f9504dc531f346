// Type-aware lint; file and folder names are kebab-case. Import cycles are checked by
// madge (`npm run lint:cycles`): modules talk through subjects, so a cycle is a design bug.
import js from '@eslint/js';
import checkFile from 'eslint-plugin-check-file';
import tseslint from 'typescript-eslint';

const slices = [
  'api',
  'app',
  'cli',
  'config',
  'consumers/[a-z-]+',
  'contracts',
  'db',
  'dead-letters',
  'errors',
  'eval',
  'models',
  'nats',
  'ops',
  'output',
  'pipeline-status',
  'producers',
  'projections',
  'replay',
  'runtime',
  'topology',
  'tracing',
];
const appLayer = {
  regex: '(^|/)app/',
  message:
    'Only src/cli and src/app import src/app; take what a role needs from runtime/role.ts or ops/.',
};
const sliceSurface = {
  regex: `^(\\.\\./)+(${slices.join('|')})/(?!index\\.js$)`,
  message: 'Import another slice through its index.ts (add the name there if it is public).',
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'ui/dist/**',
      'test-artifacts/**',
      '.test-build/**',
      '.build/**',
      'node_modules/**',
      'drizzle/meta/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'check-file': checkFile },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      'check-file/filename-naming-convention': [
        'error',
        { '**/*.{ts,js}': 'KEBAB_CASE' },
        { ignoreMiddleExtensions: true },
      ],
      'check-file/folder-naming-convention': [
        'error',
        { 'src/**/': 'KEBAB_CASE', 'test/**/': 'KEBAB_CASE' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/config reads process.env.' },
      ],
    },
  },
  // Layers. app/ is the composition root that opens the connections and starts the
  // roles, so it sits on the top floor: only the entry points (cli/) and app/ itself
  // import it. What a role needs from below lives in runtime/role.ts and ops/.
  // Slices (a folder of src/, or of src/consumers/) import each other only through
  // their index.ts, their public surface; tests may reach inside.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/app/**', 'src/cli/**', '**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [appLayer, sliceSurface] }] },
  },
  {
    files: ['src/app/**/*.ts', 'src/cli/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [sliceSurface] }] },
  },
  {
    // The entry points and the config module are where the environment is read.
    files: ['src/config/**', 'test/**', 'bench/**', 'scripts/**', '*.config.ts', '*.config.js'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Tests read JSON answers (any) all the time; asserting on them is the point.
    files: ['**/*.test.ts', 'test/harness/**'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Test doubles implement async interfaces without always awaiting.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
