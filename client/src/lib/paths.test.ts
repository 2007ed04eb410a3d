import { describe, expect, it } from "vitest";
import { safeNext, signinPath } from "./paths";

describe("safeNext", () => {
  it.each([
    [undefined, "/"],
    ["", "/"],
    ["/orders/abc", "/orders/abc"],
    ["/tickets/1?x=y", "/tickets/1?x=y"],
    [["/orders", "/x"], "/orders"],
    ["https://evil.example/", "/"],
    ["//evil.example", "/"],
    ["/\\evil.example", "/"],
    ["orders", "/"],
  ])("%j -> %j", (next, want) => {
    expect(safeNext(next)).toBe(want);
  });
});

describe("signinPath", () => {
  it("adds where to go back to", () => {
    expect(signinPath("/orders/1")).toBe("/auth/signin?next=%2Forders%2F1");
    expect(signinPath("/")).toBe("/auth/signin");
  });
});
