import { describe, expect, it } from "vitest";
import { groupOrders } from "./orders";
import type { Order, OrderStatus } from "./types";

// ids that sort as they were made: the first 8 hex digits are seconds.
function order(seconds: number, ticket: string, status: OrderStatus): Order {
  const id = seconds.toString(16).padStart(8, "0") + "0".repeat(16);
  return { id, userId: "u", status, expiresAt: "2026-01-01T00:00:00.000Z", ticket: { id: ticket, title: ticket, price: 1, version: 0 }, version: 0 };
}

describe("groupOrders", () => {
  it.each([
    ["no orders", [], []],
    ["one order per ticket, newest first", [order(1, "a", "complete"), order(2, "b", "created")], [[2, 0], [1, 0]]],
    [
      "expired attempts fold into the purchase that followed them",
      [order(1, "a", "cancelled"), order(2, "a", "cancelled"), order(3, "a", "complete")],
      [[3, 2]],
    ],
    ["the latest attempt stands for a ticket never bought", [order(1, "a", "cancelled"), order(5, "a", "created")], [[5, 1]]],
    [
      "a ticket comes up by its latest activity",
      [order(1, "a", "cancelled"), order(2, "b", "complete"), order(3, "a", "cancelled")],
      [[3, 1], [2, 0]],
    ],
    ["the order the API gives does not matter", [order(3, "a", "complete"), order(1, "a", "cancelled")], [[3, 1]]],
  ])("%s", (_name, orders, want) => {
    const got = groupOrders(orders as Order[]).map((g) => [parseInt(g.order.id.slice(0, 8), 16), g.earlier.length]);
    expect(got).toEqual(want);
  });
});
