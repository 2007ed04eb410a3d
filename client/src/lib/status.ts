import type { OrderStatus, Ticket, TicketStatus } from "./types";

/**
 * ticketStatus is the ticket's status as the API gives it; a server that
 * does not send one (the Node edition) can only tell held from free.
 */
export function ticketStatus(ticket: Pick<Ticket, "orderId" | "status">): TicketStatus {
  return ticket.status ?? (ticket.orderId ? "reserved" : "available");
}

export type StatusView = { label: string; tone: "info" | "ok" | "muted" | "warn" };

/**
 * orderStatusView names an order's state for a person. An unpaid order whose
 * hold has run out is "Expired" even before the expiration service has
 * cancelled it, since it can no longer be paid.
 */
export function orderStatusView(status: OrderStatus, expired: boolean): StatusView {
  switch (status) {
    case "complete":
      return { label: "Complete", tone: "ok" };
    case "cancelled":
      return expired ? { label: "Expired", tone: "muted" } : { label: "Cancelled", tone: "muted" };
    case "created":
    case "awaiting:payment":
      return expired ? { label: "Expired", tone: "muted" } : { label: "Awaiting payment", tone: "warn" };
    default:
      return { label: status, tone: "info" };
  }
}
