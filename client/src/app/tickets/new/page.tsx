import { TicketForm } from "@/components/TicketForm";
import { requireUser } from "@/lib/api-server";

export const metadata = { title: "Sell a ticket" };

export default async function NewTicketPage() {
  await requireUser("/tickets/new");
  return (
    <section className="narrow">
      <h1>Sell a ticket</h1>
      <p className="lead">Buyers see the title and the price. You can change both until someone reserves it.</p>
      <TicketForm mode="create" />
    </section>
  );
}
