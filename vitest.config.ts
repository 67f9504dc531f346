import { defineConfig } from 'vitest/config';

// Three kinds of test, told apart by file name: *.unit.test.ts (pure logic, no servers),
// *.int.test.ts (real nats-server and PostgreSQL) and *.e2e.test.ts (whole processes).
const servers = {
  globalSetup: ['test/harness/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 180_000,
};

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['{src,test,bench}/**/*.unit.test.ts'] } },
      {
        extends: true,
        test: { name: 'int', include: ['{src,test}/**/*.int.test.ts'], ...servers },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['{src,test,bench}/**/*.e2e.test.ts'],
          ...servers,
          testTimeout: 300_000,
        },
      },
    ],
  },
});
