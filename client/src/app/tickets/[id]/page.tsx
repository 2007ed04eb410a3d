import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { PurchaseButton } from "@/components/PurchaseButton";
import { getCurrentUser, getTicket, holdSeconds } from "@/lib/api-server";
import { formatPrice } from "@/lib/format";
import { ticketStatus } from "@/lib/status";
import { signinPath } from "@/lib/paths";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const ticket = await getTicket((await params).id);
  return { title: ticket ? ticket.title : "Ticket not found" };
}

export default async function TicketPage({ params }: Props) {
  const { id } = await params;
  const [ticket, currentUser] = await Promise.all([getTicket(id), getCurrentUser()]);
  if (!ticket) notFound();
  const here = `/tickets/${ticket.id}`;
  const owner = currentUser?.id === ticket.userId;
  const status = ticketStatus(ticket);

  return (
    <article className="panel ticket-detail">
      <p className="eyebrow">Ticket</p>
      <h1>{ticket.title}</h1>
      <p className="price-large">{formatPrice(ticket.price)}</p>
      {status === "reserved" ? (
        <p className="badge badge-warn" data-status="reserved">
          Reserved: a buyer is paying for it
        </p>
      ) : null}
      {status === "sold" ? (
        <p className="badge badge-ok" data-status="sold">
          Sold
        </p>
      ) : null}
      <div className="panel-actions">
        {status === "sold" ? (
          <p className="muted">{owner ? "You sold this ticket." : "This ticket has been sold."}</p>
        ) : owner ? (
          <>
            <p className="muted">This is your ticket.</p>
            <div>
              <Link href={`${here}/edit`} className="button button-primary">
                Edit
              </Link>
            </div>
          </>
        ) : currentUser ? (
          <PurchaseButton ticketId={ticket.id} holdSeconds={holdSeconds()} />
        ) : (
          <p>
            <Link href={signinPath(here)} className="button button-primary">
              Sign in to purchase
            </Link>
          </p>
        )}
      </div>
    </article>
  );
}
