import { defineConfig } from "vitest/config";

// One project per tests/ folder, so daily work runs one area
// (`npm run test:unit`, `vitest run --project integration`); `vitest run`
// with no --project runs them all, as `npm test` always has.
const areas = ["unit", "integration", "security", "interop", "e2e"] as const;

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run files in parallel forks, each test file isolated.
    pool: "forks",
    projects: areas.map((area) => ({
      extends: true,
      test: { name: area, include: [`tests/${area}/**/*.test.ts`] },
    })),
  },
});
