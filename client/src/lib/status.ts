import { formatDay, secondsLeft } from "./format";
import type { Listing, Order, OrderStatus, Ticket, TicketStatus } from "./types";

/**
 * ticketStatus is the ticket's status as the API gives it; a server that
 * does not send one (the Node edition) can only tell held from free.
 */
export function ticketStatus(ticket: Pick<Ticket, "orderId" | "status">): TicketStatus {
  return ticket.status ?? (ticket.orderId ? "reserved" : "available");
}

export type StatusView = { label: string; tone: "info" | "ok" | "muted" | "warn" };

/**
 * listingStatusView names a listing's state for its seller: on sale, held
 * with the minutes left, or sold with the day.
 */
export function listingStatusView(listing: Listing, now: number): StatusView {
  switch (ticketStatus(listing)) {
    case "sold":
      return { label: listing.soldAt ? `Sold ${formatDay(listing.soldAt)}` : "Sold", tone: "ok" };
    case "reserved": {
      if (!listing.expiresAt) return { label: "Reserved", tone: "warn" };
      const minutes = Math.ceil(secondsLeft(listing.expiresAt, now) / 60);
      return { label: minutes > 0 ? `Reserved, ${minutes} min left` : "Reserved, hold ending", tone: "warn" };
    }
    default:
      return { label: "On sale", tone: "info" };
  }
}

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

/**
 * orderTitle names one order's page, so that tabs and history tell orders
 * apart: the ticket and the order's short number (its last 6 hex digits,
 * which differ between orders made in the same second).
 */
export function orderTitle(order: Pick<Order, "id" | "ticket">): string {
  return `Order …${order.id.slice(-6)}: ${order.ticket.title}`;
}
