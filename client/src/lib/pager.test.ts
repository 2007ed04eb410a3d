import { describe, expect, it } from "vitest";
import { MAX_TRAIL, pageLinks, readTrail } from "./pager";

const id = (n: number) => n.toString(16).padStart(24, "0");

describe("readTrail", () => {
  it.each([
    ["nothing", undefined, []],
    ["one id", id(1), [id(1)]],
    ["ids in order", `${id(1)}.${id(2)}`, [id(1), id(2)]],
    ["drops what is not an id", `${id(1)}.nope.<script>`, [id(1)]],
    ["the first of repeated values", [id(3), id(4)], [id(3)]],
  ])("%s", (_name, raw, want) => {
    expect(readTrail(raw)).toEqual(want);
  });

  it("keeps the newest MAX_TRAIL ids", () => {
    const ids = Array.from({ length: MAX_TRAIL + 5 }, (_, i) => id(i));
    expect(readTrail(ids.join("."))).toEqual(ids.slice(5));
  });
});

describe("pageLinks", () => {
  it("first page: only older, with no trail", () => {
    expect(pageLinks("/", undefined, [], id(9))).toEqual({ newer: null, older: `/?before=${id(9)}` });
  });
  it("second page: newer is the first page, older carries where it came from", () => {
    expect(pageLinks("/", id(9), [], id(5))).toEqual({ newer: "/", older: `/?before=${id(5)}&trail=${id(9)}` });
  });
  it("third page: newer pops one step", () => {
    expect(pageLinks("/tickets/mine", id(5), [id(9)], null)).toEqual({ newer: `/tickets/mine?before=${id(9)}`, older: null });
  });
  it("walking older and then newer comes back to the same page", () => {
    const third = pageLinks("/", id(5), [id(9)], id(2));
    const q = new URLSearchParams(third.older!.split("?")[1]);
    const fourth = pageLinks("/", q.get("before")!, readTrail(q.get("trail")!), null);
    expect(fourth.newer).toBe(`/?before=${id(5)}&trail=${id(9)}`);
  });
});
