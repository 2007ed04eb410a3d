import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { TicketForm } from "@/components/TicketForm";
import { getTicket, requireUser } from "@/lib/api-server";

type Props = { params: Promise<{ id: string }> };

export const metadata: Metadata = { title: "Edit ticket" };

export default async function EditTicketPage({ params }: Props) {
  const { id } = await params;
  const here = `/tickets/${id}/edit`;
  const [currentUser, ticket] = await Promise.all([requireUser(here), getTicket(id)]);
  if (!ticket) notFound();
  const back = (
    <p>
      <Link href={`/tickets/${ticket.id}`}>← Back to the ticket</Link>
    </p>
  );

  if (ticket.userId !== currentUser.id) {
    return (
      <section className="narrow">
        <h1>Edit ticket</h1>
        <div className="alert alert-muted" role="status">
          <p>Only the seller can edit this ticket.</p>
        </div>
        {back}
      </section>
    );
  }
  if (ticket.orderId) {
    return (
      <section className="narrow">
        <h1>Edit ticket</h1>
        <div className="alert alert-warn" role="status">
          <p>
            <strong>This ticket can&rsquo;t be edited right now.</strong> A buyer has reserved it and is paying for it. If the hold
            runs out unpaid, the ticket goes back on sale and you can edit it again.
          </p>
        </div>
        {back}
      </section>
    );
  }
  return (
    <section className="narrow">
      <h1>Edit ticket</h1>
      <TicketForm mode="edit" ticket={ticket} />
      {back}
    </section>
  );
}
