import { describe, expect, it } from "vitest";
import type { Listing, OrderStatus, Ticket, TicketStatus } from "./types";
import { listingStatusView, orderStatusView, orderTitle, ticketStatus, type StatusView } from "./status";

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

describe("listingStatusView", () => {
  const now = Date.parse("2026-12-04T01:00:00.000Z");
  it.each<[Listing, string, StatusView["tone"]]>([
    [{ id: "t", title: "a", price: 1, userId: "u", version: 0, status: "available" }, "On sale", "info"],
    [{ id: "t", title: "a", price: 1, userId: "u", version: 1, status: "reserved", orderId: "o", expiresAt: "2026-12-04T01:04:30.000Z" }, "Reserved, 5 min left", "warn"],
    [{ id: "t", title: "a", price: 1, userId: "u", version: 1, status: "reserved", orderId: "o", expiresAt: "2026-12-04T00:59:00.000Z" }, "Reserved, hold ending", "warn"],
    [{ id: "t", title: "a", price: 1, userId: "u", version: 1, status: "reserved", orderId: "o" }, "Reserved", "warn"],
    [{ id: "t", title: "a", price: 1, userId: "u", version: 2, status: "sold", orderId: "o", soldAt: "2026-12-03T23:10:00.000Z" }, "Sold 3 Dec 2026", "ok"],
  ])("%j -> %s", (listing, label, tone) => {
    expect(listingStatusView(listing, now)).toEqual({ label, tone });
  });
});

describe("orderTitle", () => {
  it.each([
    ["6b123abb3dd057b1b54aa632", "Concert", "Order …4aa632: Concert"],
    ["6b123abb3dd057b1b54aa633", "Concert", "Order …4aa633: Concert"],
  ])("%s", (id, title, want) => {
    expect(orderTitle({ id, ticket: { id: "t", title, price: 1, version: 0 } })).toBe(want);
  });
});
