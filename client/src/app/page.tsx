import Link from "next/link";
import { Pager } from "@/components/Pager";
import { getCurrentUser, getTickets } from "@/lib/api-server";
import { formatPrice } from "@/lib/format";
import { pageLinks, readTrail } from "@/lib/pager";

// A page holds this many tickets; "Older tickets" shows the next ones and
// "Newer tickets" the ones before.
const PAGE_SIZE = 50;

type Props = { searchParams: Promise<{ before?: string | string[]; trail?: string | string[] }> };

export default async function HomePage({ searchParams }: Props) {
  const { before: rawBefore, trail: rawTrail } = await searchParams;
  const before = Array.isArray(rawBefore) ? rawBefore[0] : rawBefore;
  const [tickets, currentUser] = await Promise.all([getTickets({ limit: PAGE_SIZE, before }), getCurrentUser()]);
  const links = pageLinks("/", before, readTrail(rawTrail), tickets.length === PAGE_SIZE ? tickets[tickets.length - 1].id : null);

  return (
    <>
      <div className="page-head">
        <h1>Tickets on sale</h1>
        {currentUser ? (
          <Link href="/tickets/new" className="button button-primary">
            Sell a ticket
          </Link>
        ) : null}
      </div>
      {tickets.length === 0 ? (
        <div className="empty">
          <p className="empty-title">{before ? "No older tickets." : "No tickets on sale right now."}</p>
          <p>
            {before ? (
              <Link href="/">Back to the newest tickets</Link>
            ) : currentUser ? (
              <>
                Have one to sell? <Link href="/tickets/new">List it here</Link>.
              </>
            ) : (
              <>
                Have one to sell? <Link href="/auth/signup">Sign up</Link> and list it.
              </>
            )}
          </p>
        </div>
      ) : (
        <ul className="ticket-grid" aria-label="Tickets">
          {tickets.map((t) => (
            <li key={t.id} className="ticket-card" data-ticket-id={t.id}>
              <h2 className="ticket-title">
                <Link href={`/tickets/${t.id}`} className="stretched-link">
                  {t.title}
                </Link>
              </h2>
              <p className="ticket-price">{formatPrice(t.price)}</p>
              <span className="ticket-cta" aria-hidden="true">
                View →
              </span>
            </li>
          ))}
        </ul>
      )}
      <Pager links={links} label="More tickets" noun="tickets" />
    </>
  );
}
