import Link from "next/link";
import type { PageLinks } from "@/lib/pager";

/** Pager is the "← Newer" / "Older →" pair under a paged list. */
export function Pager({ links, label, noun }: { links: PageLinks; label: string; noun: string }) {
  if (!links.newer && !links.older) return null;
  return (
    <nav className="pager" aria-label={label}>
      {links.newer ? <Link href={links.newer}>← Newer {noun}</Link> : <span />}
      {links.older ? <Link href={links.older}>Older {noun} →</Link> : null}
    </nav>
  );
}
