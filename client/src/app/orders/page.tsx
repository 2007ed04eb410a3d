import Link from "next/link";
import { StatusBadge } from "@/components/StatusBadge";
import { getOrders, requireUser } from "@/lib/api-server";
import { formatDay, formatPrice, idTime, secondsLeft } from "@/lib/format";
import { groupOrders } from "@/lib/orders";
import { orderStatusView } from "@/lib/status";
import type { Order } from "@/lib/types";

export const metadata = { title: "My orders" };

function OrderDate({ order }: { order: Order }) {
  const at = idTime(order.id);
  return at ? (
    <time className="order-date" dateTime={at}>
      {formatDay(at)}
    </time>
  ) : (
    <span />
  );
}

export default async function OrdersPage() {
  await requireUser("/orders");
  // One row per ticket, the latest first: a ticket whose holds ran out
  // before it was bought is one purchase, its lapsed attempts noted in it.
  const groups = groupOrders(await getOrders("/orders"));
  // A server component renders once per request: this is that request's time.
  // eslint-disable-next-line react-hooks/purity
  const now = Date.now();

  return (
    <>
      <div className="page-head">
        <h1>My orders</h1>
      </div>
      {groups.length === 0 ? (
        <div className="empty">
          <p className="empty-title">You have no orders yet.</p>
          <p>
            <Link href="/">Browse tickets</Link> to find one.
          </p>
        </div>
      ) : (
        <ul className="order-list" aria-label="Orders">
          {groups.map(({ order: o, earlier }) => (
            <li key={o.id} className="order-row" data-order-id={o.id} data-ticket-id={o.ticket.id}>
              <div className="order-main">
                <Link href={`/orders/${o.id}`} className="order-title">
                  {o.ticket.title}
                </Link>
                {earlier.length > 0 ? (
                  <p className="order-earlier muted small" data-testid="earlier-attempts">
                    {earlier.length === 1 ? "1 earlier attempt" : `${earlier.length} earlier attempts`} ran out or {earlier.length === 1 ? "was" : "were"}{" "}
                    cancelled
                  </p>
                ) : null}
              </div>
              <OrderDate order={o} />
              <span className="order-price">{formatPrice(o.ticket.price)}</span>
              <StatusBadge status={o.status} view={orderStatusView(o.status, secondsLeft(o.expiresAt, now) === 0)} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
