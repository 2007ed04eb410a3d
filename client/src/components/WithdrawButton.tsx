"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { apiRequest } from "@/lib/api-client";
import { withNotice } from "@/lib/notices";
import type { ApiError } from "@/lib/types";
import { FormErrors } from "./ErrorMessages";

/**
 * WithdrawButton takes one of the seller's tickets off sale, after asking.
 * The API refuses a ticket someone holds or bought; its message is shown.
 */
export function WithdrawButton({ ticketId, title }: { ticketId: string; title: string }) {
  const router = useRouter();
  const pathname = usePathname();
  const query = useSearchParams().toString();
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [pending, setPending] = useState(false);

  async function withdraw() {
    if (pending || !window.confirm(`Take “${title}” off sale? Buyers will no longer see it.`)) return;
    setPending(true);
    setErrors([]);
    const res = await apiRequest<null>("DELETE", `/api/tickets/${ticketId}`);
    if (res.ok) {
      // The same page again, read afresh, with a word on what happened.
      router.replace(withNotice(query ? `${pathname}?${query}` : pathname, "withdrawn"));
      return;
    }
    setErrors(res.errors);
    setPending(false);
  }

  return (
    <div className="withdraw">
      <FormErrors errors={errors} />
      <button type="button" className="button button-small" onClick={withdraw} disabled={pending} aria-label={`Withdraw ${title}`}>
        {pending ? "Withdrawing…" : "Withdraw"}
      </button>
    </div>
  );
}
