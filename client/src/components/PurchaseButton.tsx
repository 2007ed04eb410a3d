"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiRequestAfterReplication } from "@/lib/api-client";
import { formatHold } from "@/lib/format";
import { withNotice } from "@/lib/notices";
import type { ApiError, Order } from "@/lib/types";
import { FormErrors } from "./ErrorMessages";

/**
 * PurchaseButton reserves the ticket (creates an order) and opens the order
 * to pay for it. Whether someone else holds it already is the API's call:
 * a hold may have just lapsed, so the button is offered either way.
 */
export function PurchaseButton({ ticketId, holdSeconds }: { ticketId: string; holdSeconds: number }) {
  const router = useRouter();
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [pending, setPending] = useState(false);

  async function purchase() {
    if (pending) return;
    setPending(true);
    setErrors([]);
    const res = await apiRequestAfterReplication<Order>("POST", "/api/orders", { ticketId });
    if (res.ok) {
      router.push(withNotice(`/orders/${res.data.id}`, "reserved"));
      return;
    }
    // Still unknown to the orders service after its retries: the ticket is
    // gone, or the service has not heard of it yet.
    setErrors(res.status === 404 ? [{ message: "This ticket can’t be bought right now. Please try again in a moment." }] : res.errors);
    setPending(false);
  }

  return (
    <div className="stack">
      <FormErrors errors={errors} />
      <div>
        <button type="button" className="button button-primary" onClick={purchase} disabled={pending}>
          {pending ? (
            "Reserving…"
          ) : (
            <>
              Purchase <span className="button-note">held for you {formatHold(holdSeconds)}</span>
            </>
          )}
        </button>
      </div>
    </div>
  );
}
