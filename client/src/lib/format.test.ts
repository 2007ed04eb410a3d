import { describe, expect, it } from "vitest";
import { formatHold, formatMoment, formatPrice, formatTimeLeft, idTime, priceForApi, secondsLeft, tidyPrice } from "./format";

describe("formatPrice", () => {
  it.each([
    [20, "$20.00"],
    [0.5, "$0.50"],
    [9.99, "$9.99"],
    [10.1, "$10.10"],
    [1234.5, "$1,234.50"],
    [1_000_000, "$1,000,000.00"],
    [0.005, "$0.01"],
  ])("%s -> %s", (price, want) => {
    expect(formatPrice(price)).toBe(want);
  });
});

describe("secondsLeft", () => {
  const expiresAt = "2026-01-02T03:04:05.000Z";
  const end = Date.parse(expiresAt);
  it.each([
    ["a whole minute before", end - 60_000, 60],
    ["rounds a part second up, so 0 means over", end - 1, 1],
    ["1.5 s before", end - 1500, 2],
    ["exactly at the end", end, 0],
    ["after the end is never negative", end + 5000, 0],
  ])("%s", (_name, now, want) => {
    expect(secondsLeft(expiresAt, now)).toBe(want);
  });

  it("treats an unreadable date as expired", () => {
    expect(secondsLeft("not a date", 0)).toBe(0);
  });
});

describe("formatTimeLeft", () => {
  it.each([
    [0, "0:00"],
    [5, "0:05"],
    [59, "0:59"],
    [60, "1:00"],
    [61, "1:01"],
    [899, "14:59"],
    [3599, "59:59"],
    [3600, "1:00:00"],
    [3661, "1:01:01"],
    [-3, "0:00"],
    [4.9, "0:04"],
  ])("%s s -> %s", (s, want) => {
    expect(formatTimeLeft(s)).toBe(want);
  });
});

describe("priceForApi", () => {
  it.each([
    ["20", 20],
    [" 12.50 ", 12.5],
    ["0", 0],
    ["", ""],
    ["abc", "abc"],
    ["-5", "-5"],
    ["1e3", "1e3"],
    ["0x10", "0x10"],
  ])("%j -> %j", (input, want) => {
    expect(priceForApi(input)).toBe(want);
  });
});

describe("tidyPrice", () => {
  it.each([
    ["20", "20.00"],
    ["12.5", "12.50"],
    [".5", "0.50"],
    ["7.", "7.00"],
    ["", ""],
    [".", "."],
    ["abc", "abc"],
    ["-3", "-3"],
    ["12.345", "12.345"],
    ["10.999", "10.999"],
  ])("%j -> %j", (input, want) => {
    expect(tidyPrice(input)).toBe(want);
  });
});

describe("formatHold", () => {
  it.each([
    [900, "15 minutes"],
    [60, "1 minute"],
    [90, "1 minute 30 seconds"],
    [5, "5 seconds"],
    [1, "1 second"],
    [3600, "1 hour"],
    [0, "0 seconds"],
  ])("%s -> %s", (seconds, want) => {
    expect(formatHold(seconds)).toBe(want);
  });
});

describe("idTime and formatMoment", () => {
  it("reads the creation second from an ObjectId", () => {
    expect(idTime("692f0a4c" + "0".repeat(16))).toBe("2025-12-02T15:48:28.000Z");
  });
  it.each([["short"], ["zz" + "0".repeat(22)], [""]])("%s is no ObjectId", (id) => {
    expect(idTime(id)).toBeNull();
  });
  it("shows a moment in UTC", () => {
    expect(formatMoment("2026-12-04T03:05:09.000Z")).toBe("4 Dec 2026, 03:05 UTC");
  });
});
