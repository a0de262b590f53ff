import { defineConfig } from "vitest/config";

// `npm run test:live`: one tiny call per provider through keygate to the real
// APIs. Each test runs only when its provider's key is in the environment
// (OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_API_KEY) and is skipped otherwise.
export default defineConfig({
  test: {
    include: ["test/live/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 1,
  },
});
