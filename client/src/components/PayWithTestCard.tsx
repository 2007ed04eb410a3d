"use client";

import { useState } from "react";
import { apiRequestAfterReplication } from "@/lib/api-client";
import type { ApiError } from "@/lib/types";
import { FormErrors } from "./ErrorMessages";

/** Stripe's test token for a Visa card that always succeeds. */
export const TEST_CARD_TOKEN = "tok_visa";

/**
 * PayWithTestCard pays without a card form, for machines without a Stripe
 * key (the local fleet talks to stripe-mock). It says plainly that it is a
 * test payment.
 */
export function PayWithTestCard({ orderId, onPaid }: { orderId: string; onPaid: () => void }) {
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [pending, setPending] = useState(false);

  async function pay() {
    if (pending) return;
    setPending(true);
    setErrors([]);
    const res = await apiRequestAfterReplication<{ id: string }>("POST", "/api/payments", { token: TEST_CARD_TOKEN, orderId });
    setPending(false);
    if (res.ok) {
      onPaid();
      return;
    }
    setErrors(res.errors);
  }

  return (
    <div className="stack">
      <p className="test-mode-note">
        <strong>Test mode.</strong> No card is needed: this pays with Stripe&rsquo;s test card ({TEST_CARD_TOKEN}) and no real money moves.
      </p>
      <FormErrors errors={errors} />
      <div>
        <button type="button" className="button button-primary" onClick={pay} disabled={pending}>
          {pending ? "Paying…" : "Pay with test card"}
        </button>
      </div>
    </div>
  );
}
