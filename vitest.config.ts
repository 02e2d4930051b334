// Tests live beside the code they specify (`*.test.ts`). Servers under test run
// as real processes from the compiled `dist/`, which `npm test` builds first.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['servers/**/*.test.ts', 'clients/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The machine has two cores and many tests start servers: run test files
    // one or two at a time so that timing-sensitive behaviour tests stay honest.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
