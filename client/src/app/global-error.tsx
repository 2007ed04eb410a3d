"use client";

import "./globals.css";

// Shown only when the root layout itself fails; it replaces the whole page,
// so it brings its own <html> and the same stylesheet.
export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body>
        <main className="container main">
          <div className="message-page" role="alert">
            <p className="message-code">Error</p>
            <h1>Something went wrong</h1>
            <p>We could not load this page. Please try again in a moment.</p>
            <p className="actions">
              <button type="button" className="button button-primary" onClick={reset}>
                Try again
              </button>
              {/* A plain link: the router may be what failed. */}
              {/* eslint-disable-next-line @next/next/no-html-link-for-pages */}
              <a href="/" className="button">
                Browse tickets
              </a>
            </p>
            {error.digest ? <p className="muted small">Reference: {error.digest}</p> : null}
          </div>
        </main>
      </body>
    </html>
  );
}
