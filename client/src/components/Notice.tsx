"use client";

import { usePathname, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { noticeMessage } from "@/lib/notices";

/**
 * Notice says what the last action did (lib/notices). It is rendered on the
 * server from the URL's notice code, so it shows without JavaScript too;
 * in the browser the code is then dropped from the address bar, so a reload
 * or a shared link does not repeat it, while the message stays on this page.
 */
export function Notice() {
  const pathname = usePathname();
  const code = useSearchParams().get("notice") ?? undefined;
  const fresh = noticeMessage(code);
  const [kept, setKept] = useState<{ message: string; path: string } | null>(null);

  useEffect(() => {
    if (!code) return;
    const url = new URL(window.location.href);
    url.searchParams.delete("notice");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }, [code]);

  // Kept across the address change above, and dropped on the next page.
  if (fresh && (kept?.message !== fresh || kept.path !== pathname)) setKept({ message: fresh, path: pathname });
  const message = fresh ?? (kept && kept.path === pathname ? kept.message : null);
  if (!message) return null;
  return (
    <div className="alert alert-success notice" role="status" data-testid="notice">
      <p>{message}</p>
    </div>
  );
}
