import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Training tests are CPU-heavy; two cores here, so run files one or two at a time.
    maxWorkers: 2,
    pool: 'forks',
  },
});
