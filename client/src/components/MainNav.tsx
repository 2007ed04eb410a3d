"use client";

import { usePathname } from "next/navigation";
import { useState, useSyncExternalStore } from "react";

const subscribeNothing = () => () => {};

/**
 * MainNav holds the header's links. On a phone a signed-in person's five
 * links fold behind a Menu button so the header stays one row (a visitor's
 * two fit beside the brand); the button exists only once the page runs its
 * script, so without JavaScript the links simply show.
 */
export function MainNav({ children, fold }: { children: React.ReactNode; fold: boolean }) {
  const scripted = useSyncExternalStore(
    subscribeNothing,
    () => true,
    () => false,
  );
  const enhanced = fold && scripted;
  const pathname = usePathname();
  // Open on the page where it was opened: moving to another page closes it.
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === pathname;

  return (
    <nav
      aria-label="Main"
      className={enhanced ? "main-nav main-nav-enhanced" : "main-nav"}
      data-open={open}
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) setOpenOn(null);
      }}
    >
      {enhanced ? (
        <button
          type="button"
          className="button button-small menu-button"
          aria-expanded={open}
          aria-controls="main-nav-list"
          onClick={() => setOpenOn(open ? null : pathname)}
        >
          <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true" focusable="false">
            <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          </svg>
          Menu
        </button>
      ) : null}
      <ul id="main-nav-list" className="nav-list">
        {children}
      </ul>
    </nav>
  );
}
