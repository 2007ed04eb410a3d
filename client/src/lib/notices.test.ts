import { describe, expect, it } from "vitest";
import { NOTICES, noticeMessage, withNotice } from "./notices";

describe("noticeMessage", () => {
  it.each([
    ["a known code", "listed", NOTICES.listed],
    ["the first of repeated values", ["saved", "listed"], NOTICES.saved],
    ["an unknown code shows nothing", "<b>hi</b>", null],
    ["an inherited name is no code", "constructor", null],
    ["nothing", undefined, null],
  ])("%s", (_name, raw, want) => {
    expect(noticeMessage(raw)).toBe(want);
  });
});

describe("withNotice", () => {
  it.each([
    ["/", "/?notice=listed"],
    ["/orders/abc", "/orders/abc?notice=listed"],
    ["/tickets/mine?before=x", "/tickets/mine?before=x&notice=listed"],
    ["/?notice=saved", "/?notice=listed"],
  ])("%s", (path, want) => {
    expect(withNotice(path, "listed")).toBe(want);
  });
});
