import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Three kinds of test, told apart by file name: *.unit.test.ts (pure logic, no servers),
// *.int.test.ts (real nats-server and PostgreSQL) and *.e2e.test.ts (whole processes).
const servers = {
  globalSetup: ['test/harness/global-setup.ts'],
  setupFiles: ['test/harness/built-workers.ts'],
  testTimeout: 60_000,
  hookTimeout: 180_000,
};

/**
 * Test files run side by side: most of an integration or end-to-end test's time is spent
 * waiting for a pipeline, and vitest's default (one worker fewer than the cores: one file
 * at a time on 2 cores) leaves the CPU idle. Every file has its own namespace, database
 * and ports. SLUICE_TEST_WORKERS overrides (1 runs the files one by one).
 */
const workers = Number(process.env.SLUICE_TEST_WORKERS ?? availableParallelism() + 1);

export default defineConfig({
  test: {
    maxWorkers: workers,
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
          include: ['{src,test}/**/*.e2e.test.ts'],
          ...servers,
          testTimeout: 300_000,
        },
      },
      // Every bench script at a tiny size (minutes of CPU on 2 cores): `npm run bench:smoke`.
      ...(process.env.SLUICE_BENCH_SMOKE === '1'
        ? [
            {
              extends: true as const,
              test: {
                name: 'bench',
                include: ['bench/**/*.e2e.test.ts'],
                ...servers,
                testTimeout: 900_000,
                maxConcurrency: 3,
              },
            },
          ]
        : []),
    ],
  },
});
