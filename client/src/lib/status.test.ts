import { describe, expect, it } from "vitest";
import type { OrderStatus } from "./types";
import { orderStatusView } from "./status";

describe("orderStatusView", () => {
  it.each<[OrderStatus, boolean, string]>([
    ["created", false, "Awaiting payment"],
    ["created", true, "Expired"],
    ["awaiting:payment", false, "Awaiting payment"],
    ["complete", false, "Complete"],
    ["complete", true, "Complete"],
    ["cancelled", false, "Cancelled"],
    ["cancelled", true, "Expired"],
  ])("%s (expired %s) -> %s", (status, expired, label) => {
    expect(orderStatusView(status, expired).label).toBe(label);
  });
});
