import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure (machines, domain rules) and needs nothing; `integration` talks to a
// real Postgres that test/global-setup.ts starts once per run (or DATABASE_URL), with one database
// per test file cloned from a migrated template.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
    ],
  },
});
