import type { Order } from "./types";

/**
 * OrderGroup is one ticket in a buyer's history: the order that matters
 * (the purchase if there is one, else the latest attempt) and the earlier
 * attempts on the same ticket that lapsed or were cancelled.
 */
export type OrderGroup = { order: Order; earlier: Order[] };

/**
 * groupOrders folds a buyer's orders by ticket, newest activity first, so
 * a ticket whose holds ran out twice before it was bought reads as one
 * purchase with two earlier attempts, not three purchases. Ids are
 * ObjectIds, which sort by creation time.
 */
export function groupOrders(orders: Order[]): OrderGroup[] {
  const byTicket = new Map<string, Order[]>();
  for (const o of orders) {
    const list = byTicket.get(o.ticket.id);
    if (list) list.push(o);
    else byTicket.set(o.ticket.id, [o]);
  }
  const groups: Array<OrderGroup & { latest: string }> = [];
  for (const list of byTicket.values()) {
    const sorted = [...list].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const order = sorted.find((o) => o.status === "complete") ?? sorted[0];
    groups.push({ order, earlier: sorted.filter((o) => o !== order), latest: sorted[0].id });
  }
  groups.sort((a, b) => (a.latest < b.latest ? 1 : a.latest > b.latest ? -1 : 0));
  return groups.map(({ order, earlier }) => ({ order, earlier }));
}
