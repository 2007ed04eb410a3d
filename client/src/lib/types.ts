// Shapes of the API's JSON (CONTRACT.md §1.3).

export type ApiError = { message: string; field?: string };

export type CurrentUser = { id: string; email: string };

export type Ticket = {
  id: string;
  title: string;
  price: number;
  userId: string;
  version: number;
  /** Present only while an order holds the ticket. */
  orderId?: string;
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
