// The bitmask-provider command: prints its ports as one JSON line, serves
// /health, logs to stderr without content, stops cleanly on SIGTERM, and
// exits 2 on bad arguments.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { healthResponse } from "../../shared/provider-api";
import { runTool } from "../helpers/tools";

const tsx = path.resolve("node_modules/.bin/tsx");
const main = path.resolve("provider/main.ts");
const dataDir = mkdtempSync(path.join(tmpdir(), "bitmask-provider-cli-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("bitmask-provider", () => {
  it("starts, reports its ports, answers /health and stops on SIGTERM", async () => {
    const child = spawn(
      tsx,
      [main, "--domain", "example.org", "--data-dir", dataDir, "--http-port", "0", "--mx-port", "0", "--submission-port", "0", "--route", "example.net=127.0.0.1:2526", "-v"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const stderr: string[] = [];
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
    const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
    const ports = JSON.parse(line) as { url: string; httpPort: number; mxPort: number; submissionPort: number };
    expect(ports).toMatchObject({ event: "listening", domain: "example.org" });
    for (const port of [ports.httpPort, ports.mxPort, ports.submissionPort]) expect(port).toBeGreaterThan(0);

    const health = healthResponse.parse(await (await fetch(`${ports.url}/health`)).json());
    expect(health.status).toBe("ok");

    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code, stderr.join("")).toBe(0);
    expect(stderr.join("")).toContain('"event":"started"');
  });

  it("exits 2 on bad arguments and 0 for --help", async () => {
    expect((await runTool(tsx, [main, "--domain", "example.org"], { timeoutMs: 20_000 })).code).toBe(2);
    expect((await runTool(tsx, [main, "--domain", "x", "--data-dir", dataDir, "--route", "nonsense"], { timeoutMs: 20_000 })).code).toBe(2);
    const help = await runTool(tsx, [main, "--help"], { timeoutMs: 20_000 });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--submission-port");
  });
});
