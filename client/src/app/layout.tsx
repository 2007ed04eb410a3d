import type { Metadata, Viewport } from "next";
import { Suspense } from "react";
import { Header } from "@/components/Header";
import { Notice } from "@/components/Notice";
import { getSession } from "@/lib/api-server";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Ticketing", template: "%s · Ticketing" },
  description: "Buy and sell tickets to events.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1, themeColor: "#4338ca" };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const { user, authUnavailable } = await getSession();
  return (
    <html lang="en">
      <body>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <Header currentUser={user} authUnavailable={authUnavailable} />
        <main id="main" className="container main">
          <Suspense fallback={null}>
            <Notice />
          </Suspense>
          {children}
        </main>
        <footer className="site-footer">
          <div className="container">Ticketing · buy and sell tickets to events</div>
        </footer>
      </body>
    </html>
  );
}
