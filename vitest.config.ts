import { defineConfig } from "vitest/config";

// One project per tests/ folder, so daily work runs one area
// (`npm run test:unit`, `vitest run --project integration`); `vitest run`
// with no --project runs them all, as `npm test` always has
// (tests/unit/test-areas.test.ts checks no test file sits outside them).
export const TEST_AREAS: readonly string[] = ["unit", "integration", "security", "interop", "e2e"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run files in parallel forks, each test file isolated.
    pool: "forks",
    projects: TEST_AREAS.map((area) => ({
      extends: true,
      test: { name: area, include: [`tests/${area}/**/*.test.ts`] },
    })),
  },
});
