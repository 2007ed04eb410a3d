import Link from "next/link";
import { Pager } from "@/components/Pager";
import { StatusBadge } from "@/components/StatusBadge";
import { WithdrawButton } from "@/components/WithdrawButton";
import { getMyListings, requireUser } from "@/lib/api-server";
import { formatPrice } from "@/lib/format";
import { pageLinks, readTrail } from "@/lib/pager";
import { listingStatusView, ticketStatus } from "@/lib/status";

export const metadata = { title: "My listings" };

// A page holds this many listings; "Older listings" shows the next ones.
const PAGE_SIZE = 50;

type Props = { searchParams: Promise<{ before?: string | string[]; trail?: string | string[] }> };

export default async function MyListingsPage({ searchParams }: Props) {
  const { before: rawBefore, trail: rawTrail } = await searchParams;
  const before = Array.isArray(rawBefore) ? rawBefore[0] : rawBefore;
  const here = before ? `/tickets/mine?before=${encodeURIComponent(before)}` : "/tickets/mine";
  await requireUser(here);
  const listings = await getMyListings(here, { limit: PAGE_SIZE, before });
  const links = pageLinks("/tickets/mine", before, readTrail(rawTrail), listings.length === PAGE_SIZE ? listings[listings.length - 1].id : null);
  // A server component renders once per request: this is that request's time.
  // eslint-disable-next-line react-hooks/purity
  const now = Date.now();

  return (
    <>
      <div className="page-head">
        <h1>My listings</h1>
        <Link href="/tickets/new" className="button button-primary">
          Sell a ticket
        </Link>
      </div>
      {listings.length === 0 ? (
        <div className="empty">
          <p className="empty-title">{before ? "No older listings." : "You have not listed a ticket yet."}</p>
          <p>{before ? <Link href="/tickets/mine">Back to your newest listings</Link> : <Link href="/tickets/new">List one here</Link>}</p>
        </div>
      ) : (
        <ul className="order-list" aria-label="Listings">
          {listings.map((l) => (
            <li key={l.id} className="order-row listing-row" data-ticket-id={l.id}>
              <Link href={`/tickets/${l.id}`} className="order-title">
                {l.title}
              </Link>
              <span className="order-price">{formatPrice(l.price)}</span>
              <StatusBadge status={ticketStatus(l)} view={listingStatusView(l, now)} />
              {ticketStatus(l) === "available" ? <WithdrawButton ticketId={l.id} title={l.title} /> : <span />}
            </li>
          ))}
        </ul>
      )}
      <Pager links={links} label="More listings" noun="listings" />
    </>
  );
}
