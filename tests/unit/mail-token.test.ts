import { afterEach, describe, expect, it } from "vitest";
import { MailTokens } from "../../native-host/auth/mail-token";
import { FAILED_LOGIN_DELAY_MS } from "../../native-host/limits";
import { openTempStore } from "../helpers/temp-store";

let close = () => {};
afterEach(() => close());

describe("mail token", () => {
  it("is created once with at least 128 random bits, checked, and rotated", async () => {
    const temp = await openTempStore();
    close = temp.close;
    const tokens = new MailTokens(temp.store);
    const token = tokens.current();
    expect(Buffer.from(token, "base64url").length * 8).toBeGreaterThanOrEqual(128);
    expect(tokens.current()).toBe(token);
    expect(tokens.matches(token)).toBe(true);
    expect(tokens.matches(token + "x")).toBe(false);
    expect(tokens.matches("")).toBe(false);
    const rotated = tokens.rotate();
    expect(rotated).not.toBe(token);
    expect(tokens.matches(token)).toBe(false);
    expect(tokens.matches(rotated)).toBe(true);
    expect(new MailTokens(temp.store).current()).toBe(rotated);
  });

  it("answers a wrong token only after the failure delay", async () => {
    const temp = await openTempStore();
    close = temp.close;
    const tokens = new MailTokens(temp.store);
    const good = tokens.current();
    let started = performance.now();
    expect(await tokens.verify(good)).toBe(true);
    expect(performance.now() - started).toBeLessThan(FAILED_LOGIN_DELAY_MS);
    started = performance.now();
    expect(await tokens.verify("wrong")).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(FAILED_LOGIN_DELAY_MS - 5);
  });
});
