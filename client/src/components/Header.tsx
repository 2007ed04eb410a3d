import Link from "next/link";
import type { CurrentUser } from "@/lib/types";
import { MainNav } from "./MainNav";
import { NavLink } from "./NavLink";

type Props = {
  currentUser: CurrentUser | null;
  /** The auth service could not be asked: say so, not just "signed out". */
  authUnavailable?: boolean;
};

/** Header shows who is signed in and the links that make sense for them. */
export function Header({ currentUser, authUnavailable = false }: Props) {
  return (
    <header className="site-header">
      <div className="container header-inner">
        <Link href="/" className="brand">
          <svg className="brand-mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
            <rect width="32" height="32" rx="7" fill="currentColor" />
            <path d="M8 11h16v3a2 2 0 0 0 0 4v3H8v-3a2 2 0 0 0 0-4z" fill="#fff" />
          </svg>
          Ticketing
        </Link>
        <MainNav fold={currentUser !== null}>
            {currentUser ? (
              <>
                <li>
                  <NavLink href="/tickets/new">Sell a ticket</NavLink>
                </li>
                <li>
                  <NavLink href="/tickets/mine">My listings</NavLink>
                </li>
                <li>
                  <NavLink href="/orders">My orders</NavLink>
                </li>
                <li className="nav-user" title={currentUser.email}>
                  <span className="visually-hidden">Signed in as </span>
                  <span data-testid="current-user">{currentUser.email}</span>
                </li>
                <li>
                  <NavLink href="/auth/signout">Sign out</NavLink>
                </li>
              </>
            ) : (
              <>
                <li>
                  <NavLink href="/auth/signin">Sign in</NavLink>
                </li>
                <li>
                  <NavLink href="/auth/signup">Sign up</NavLink>
                </li>
              </>
            )}
        </MainNav>
      </div>
      {authUnavailable ? (
        <div className="auth-down" role="alert">
          <p className="container">
            We can&rsquo;t check whether you are signed in right now, so you are shown as signed out. Your session is not lost: try
            again in a moment.
          </p>
        </div>
      ) : null}
    </header>
  );
}
