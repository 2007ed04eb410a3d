"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

/** NavLink marks the link to the page being shown, for eyes and screen readers. */
export function NavLink({ href, children }: { href: string; children: React.ReactNode }) {
  const pathname = usePathname();
  const current = pathname === href;
  return (
    <Link href={href} className="nav-link" aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}
