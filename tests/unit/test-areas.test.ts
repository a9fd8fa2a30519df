// npm test runs the vitest projects, one per tests/ folder: a test file in
// any other folder would silently never run.
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TEST_AREAS } from "../../vitest.config";

const TESTS = path.resolve(import.meta.dirname, "..");

describe("test areas", () => {
  it("holds every test file in a folder that has a vitest project", () => {
    const files = readdirSync(TESTS, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".test.ts"));
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((file) => !TEST_AREAS.includes(file.split(path.sep)[0]!))).toEqual([]);
  });
});
