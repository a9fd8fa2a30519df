// The missing-tool rule of tests/helpers/tools.ts: fail under CI=true, skip
// (with a printed reason) elsewhere.
import { afterEach, describe, expect, it, vi } from "vitest";
import { findOnPath, requireTool } from "../helpers/tools";

const MISSING = { name: "bitmask-no-such-tool", install: "apt-get install nothing" };

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("requireTool", () => {
  it("answers null when the tool is on PATH", () => {
    vi.stubEnv("CI", "true");
    expect(findOnPath("sh")).toMatch(/\/sh$/);
    expect(requireTool("sh")).toBeNull();
  });

  it("throws under CI=true when a tool is missing", () => {
    vi.stubEnv("CI", "true");
    expect(() => requireTool(["sh", MISSING], "the demo test")).toThrow(
      /the demo test needs a tool that is missing under CI=true: bitmask-no-such-tool not found on PATH \(apt-get install nothing\)/,
    );
  });

  it("returns the reason and prints it when not under CI", () => {
    vi.stubEnv("CI", "");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(requireTool(MISSING, "the demo test")).toBe("bitmask-no-such-tool not found on PATH (apt-get install nothing)");
    expect(warn).toHaveBeenCalledWith("Skipping the demo test: bitmask-no-such-tool not found on PATH (apt-get install nothing)");
  });
});
