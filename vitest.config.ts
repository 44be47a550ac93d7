import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests (beside the code, *.spec.ts) and integration tests that
// need built data, a running server or a browser (test/**/*.test.ts). Integration tests run
// one file at a time: they share the 2 cores with the server and Chromium they start.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // Generous: the data-generation specs take seconds, and CI shares 2 cores with the build.
          testTimeout: 60_000,
          include: ['{layers,address-standards,tile-server,web,scripts}/**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
