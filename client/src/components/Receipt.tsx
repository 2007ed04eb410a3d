import Link from "next/link";
import { formatMoment, formatPrice, idTime } from "@/lib/format";
import type { Order, Receipt as PaymentReceipt } from "@/lib/types";

/**
 * Receipt is what a buyer keeps of a completed order: its number and date,
 * the amount, Stripe's payment reference and the ticket. The reference
 * comes from the payments service; when it cannot be read the rest still
 * shows.
 */
export function Receipt({ order, payment }: { order: Order; payment: PaymentReceipt | null }) {
  const ordered = idTime(order.id);
  return (
    <section className="receipt" aria-labelledby="receipt-title" data-testid="receipt">
      <h2 id="receipt-title">Receipt</h2>
      <dl className="receipt-facts">
        <div>
          <dt>Order number</dt>
          <dd className="mono">{order.id}</dd>
        </div>
        {ordered ? (
          <div>
            <dt>Date</dt>
            <dd>
              <time dateTime={ordered}>{formatMoment(ordered)}</time>
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Amount paid</dt>
          <dd>{formatPrice(payment?.amount ?? order.ticket.price)}</dd>
        </div>
        <div>
          <dt>Payment reference</dt>
          <dd className="mono">{payment ? payment.stripeId : "Not available right now"}</dd>
        </div>
        <div>
          <dt>Ticket</dt>
          <dd>
            <Link href={`/tickets/${order.ticket.id}`}>{order.ticket.title}</Link>
          </dd>
        </div>
      </dl>
      {payment?.refunded ? <p className="muted small">This payment has been refunded.</p> : null}
    </section>
  );
}
