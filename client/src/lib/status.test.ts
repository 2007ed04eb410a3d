import { describe, expect, it } from "vitest";
import type { OrderStatus, Ticket, TicketStatus } from "./types";
import { orderStatusView, ticketStatus } from "./status";

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

describe("ticketStatus", () => {
  it.each<[Pick<Ticket, "orderId" | "status">, TicketStatus]>([
    [{ status: "available" }, "available"],
    [{ status: "reserved", orderId: "o1" }, "reserved"],
    [{ status: "sold", orderId: "o1" }, "sold"],
    [{ orderId: "o1" }, "reserved"],
    [{}, "available"],
  ])("%j -> %s", (ticket, want) => {
    expect(ticketStatus(ticket)).toBe(want);
  });
});
