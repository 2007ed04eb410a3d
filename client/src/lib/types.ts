// Shapes of the API's JSON (CONTRACT.md §1.3).

export type ApiError = { message: string; field?: string };

export type CurrentUser = { id: string; email: string };

export type Ticket = {
  id: string;
  title: string;
  price: number;
  userId: string;
  version: number;
  /** Present while an order holds the ticket: reserved or sold. */
  orderId?: string;
  /** Absent from servers older than the field (the Node edition). */
  status?: TicketStatus;
};

export type TicketStatus = "available" | "reserved" | "sold";

/** Listing is a ticket as its seller sees it (GET /api/tickets/mine). */
export type Listing = Ticket & {
  /** While reserved: when the hold ends. */
  expiresAt?: string;
  /** Once sold: when the tickets service heard of the payment. */
  soldAt?: string;
};

export type OrderStatus = "created" | "cancelled" | "awaiting:payment" | "complete";

export type Order = {
  id: string;
  userId: string;
  status: OrderStatus;
  expiresAt: string;
  ticket: { id: string; title: string; price: number; version: number };
  version: number;
};

/** Receipt is a paid order's payment (GET /api/payments/:orderId). */
export type Receipt = {
  id: string;
  orderId: string;
  /** Stripe's charge or PaymentIntent id: the payment reference. */
  stripeId: string;
  amount: number;
  refunded?: boolean;
};
