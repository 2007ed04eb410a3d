import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { OrderPanel } from "@/components/OrderPanel";
import { getOrder, getReceipt, requireUser } from "@/lib/api-server";
import { orderTitle } from "@/lib/status";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  const order = await getOrder(id, `/orders/${id}`);
  return { title: order ? orderTitle(order) : "Order not found" };
}

export default async function OrderPage({ params }: Props) {
  const { id } = await params;
  const here = `/orders/${id}`;
  await requireUser(here);
  const order = await getOrder(id, here);
  if (!order) notFound();
  // A server component renders once per request: this is that request's time.
  // eslint-disable-next-line react-hooks/purity
  const now = Date.now();
  // Read at request time, so one image serves any environment; Next inlines
  // NEXT_PUBLIC_ variables only where they are set during the build.
  const stripeKey = process.env.NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY || undefined;
  const receipt = order.status === "complete" ? await getReceipt(order.id) : null;

  return (
    <article className="panel order-detail">
      <p className="eyebrow">Order</p>
      <h1>{order.ticket.title}</h1>
      <OrderPanel order={order} serverNow={now} stripeKey={stripeKey} receipt={receipt} />
      <p className="muted small">
        <Link href="/orders">← All my orders</Link>
      </p>
    </article>
  );
}
