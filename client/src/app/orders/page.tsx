import Link from "next/link";
import { StatusBadge } from "@/components/StatusBadge";
import { getOrders, requireUser } from "@/lib/api-server";
import { formatPrice, secondsLeft } from "@/lib/format";
import { orderStatusView } from "@/lib/status";

export const metadata = { title: "My orders" };

export default async function OrdersPage() {
  await requireUser("/orders");
  // The API lists oldest first; a person looks for the latest first.
  const orders = (await getOrders("/orders")).slice().reverse();
  // A server component renders once per request: this is that request's time.
  // eslint-disable-next-line react-hooks/purity
  const now = Date.now();

  return (
    <>
      <div className="page-head">
        <h1>My orders</h1>
      </div>
      {orders.length === 0 ? (
        <div className="empty">
          <p className="empty-title">You have no orders yet.</p>
          <p>
            <Link href="/">Browse tickets</Link> to find one.
          </p>
        </div>
      ) : (
        <ul className="order-list" aria-label="Orders">
          {orders.map((o) => (
            <li key={o.id} className="order-row" data-order-id={o.id}>
              <Link href={`/orders/${o.id}`} className="order-title">
                {o.ticket.title}
              </Link>
              <span className="order-price">{formatPrice(o.ticket.price)}</span>
              <StatusBadge status={o.status} view={orderStatusView(o.status, secondsLeft(o.expiresAt, now) === 0)} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
