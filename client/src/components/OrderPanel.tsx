"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { apiRequest } from "@/lib/api-client";
import { formatPrice, secondsLeft } from "@/lib/format";
import { orderStatusView, type StatusView } from "@/lib/status";
import type { Order, OrderStatus, Receipt as PaymentReceipt } from "@/lib/types";
import { Countdown } from "./Countdown";
import { PayWithStripe } from "./PayWithStripe";
import { PayWithTestCard } from "./PayWithTestCard";
import { Receipt } from "./Receipt";
import { StatusBadge } from "./StatusBadge";

// After a payment is accepted the order turns complete once the orders
// service hears of it; ask this often, this many times, before saying so.
const CONFIRM_POLL_MS = 1000;
const CONFIRM_POLLS = 30;

type Props = {
  order: Order;
  serverNow: number;
  /** Stripe's publishable key; without one, a test-card button pays. */
  stripeKey?: string;
  /** The payment of a completed order, for its receipt. */
  receipt?: PaymentReceipt | null;
};

/**
 * OrderPanel is the part of an order's page that changes while it is open:
 * the status, the countdown, paying, and what happens after paying.
 */
export function OrderPanel({ order, serverNow, stripeKey, receipt = null }: Props) {
  const router = useRouter();
  const [status, setStatus] = useState<OrderStatus>(order.status);
  const [expired, setExpired] = useState(() => secondsLeft(order.expiresAt, serverNow) === 0);
  const [paid, setPaid] = useState(false);
  const [slowConfirm, setSlowConfirm] = useState(false);
  const onExpire = useCallback(() => setExpired(true), []);
  const onPaid = useCallback(() => setPaid(true), []);
  const confirming = paid && (status === "created" || status === "awaiting:payment");

  useEffect(() => {
    if (!confirming) return;
    let polls = 0;
    let stopped = false;
    const timer = setInterval(async () => {
      polls++;
      if (polls >= CONFIRM_POLLS) {
        stopped = true;
        clearInterval(timer);
        setSlowConfirm(true);
        return;
      }
      const res = await apiRequest<Order>("GET", `/api/orders/${order.id}`);
      if (stopped) return;
      if (res.ok && res.data.status !== "created" && res.data.status !== "awaiting:payment") {
        setStatus(res.data.status);
        // The server reads the payment for the receipt.
        if (res.data.status === "complete") router.refresh();
      }
    }, CONFIRM_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [confirming, order.id, router]);

  const view: StatusView = confirming ? { label: "Payment received", tone: "info" } : orderStatusView(status, expired);

  let actions: React.ReactNode;
  if (status === "complete") {
    actions = (
      <div className="stack">
        <div className="alert alert-success" role="status">
          <p>
            <strong>Paid.</strong> Your order is complete. Enjoy the event!
          </p>
        </div>
        <Receipt order={order} payment={receipt} />
      </div>
    );
  } else if (confirming) {
    actions = (
      <div className="alert alert-info" role="status">
        {slowConfirm ? (
          <p>
            Payment received. Your order will show as complete in a moment on <Link href="/orders">My orders</Link>.
          </p>
        ) : (
          <p>Payment received. Confirming your order…</p>
        )}
      </div>
    );
  } else if (status === "cancelled" || expired) {
    actions = (
      <div className="alert alert-muted" role="status">
        <p className="countdown-expired">{expired ? "Order expired" : "This order was cancelled."}</p>
        <p>
          The ticket is no longer held for you. <Link href={`/tickets/${order.ticket.id}`}>See the ticket</Link> or{" "}
          <Link href="/">browse tickets</Link>.
        </p>
      </div>
    );
  } else {
    actions = (
      <div className="stack">
        <Countdown expiresAt={order.expiresAt} serverNow={serverNow} onExpire={onExpire} />
        {stripeKey ? (
          <PayWithStripe publishableKey={stripeKey} orderId={order.id} amount={order.ticket.price} onPaid={onPaid} />
        ) : (
          <PayWithTestCard orderId={order.id} onPaid={onPaid} />
        )}
      </div>
    );
  }

  return (
    <>
      <dl className="facts">
        <div>
          <dt>Price</dt>
          <dd>{formatPrice(order.ticket.price)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={status} view={view} />
          </dd>
        </div>
      </dl>
      {actions}
    </>
  );
}
