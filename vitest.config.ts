import { defineConfig } from "vitest/config";

// Integration tests start real redis-server and keygate processes; run files in
// parallel across the 2 CI cores, but keep each file's tests sequential.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/live/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
