"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { startTransition, useEffect } from "react";

// The error page for anything that fails while rendering below the layout.
// The server's message is not shown (it may name internals); its digest
// finds it in the server's log.
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const router = useRouter();
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div className="message-page" role="alert">
      <p className="message-code">Error</p>
      <h1>Something went wrong</h1>
      <p>We could not load this page. Please try again in a moment.</p>
      <p className="actions">
        <button
          type="button"
          className="button button-primary"
          // The failure was most likely on the server: render the page there
          // again, then clear the error here.
          onClick={() =>
            startTransition(() => {
              router.refresh();
              reset();
            })
          }
        >
          Try again
        </button>
        <Link href="/" className="button">
          Browse tickets
        </Link>
      </p>
      {error.digest ? <p className="muted small">Reference: {error.digest}</p> : null}
    </div>
  );
}
