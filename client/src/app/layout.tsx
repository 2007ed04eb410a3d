import type { Metadata, Viewport } from "next";
import { Header } from "@/components/Header";
import { getCurrentUser } from "@/lib/api-server";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Ticketing", template: "%s · Ticketing" },
  description: "Buy and sell tickets to events.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1, themeColor: "#4338ca" };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const currentUser = await getCurrentUser();
  return (
    <html lang="en">
      <body>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <Header currentUser={currentUser} />
        <main id="main" className="container main">
          {children}
        </main>
        <footer className="site-footer">
          <div className="container">Ticketing · buy and sell tickets to events</div>
        </footer>
      </body>
    </html>
  );
}
