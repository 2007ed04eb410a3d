"use client";

import { Elements, PaymentElement, useElements, useStripe } from "@stripe/react-stripe-js";
// The pure entry point loads Stripe.js only when loadStripe is called, so a
// page without a publishable key never gets Stripe's script.
import { loadStripe } from "@stripe/stripe-js/pure";
import { useEffect, useMemo, useState } from "react";
import { apiRequest, apiRequestAfterReplication } from "@/lib/api-client";
import { formatPrice } from "@/lib/format";
import type { ApiError } from "@/lib/types";
import { FormErrors } from "./ErrorMessages";

type Props = { publishableKey: string; orderId: string; amount: number; onPaid: () => void };

type Intent = { id: string; clientSecret: string };
type ReadBack = { id: string; status: string; paymentId?: string };

// Statuses after which the order is as good as paid: succeeded is recorded
// at once; processing (some bank methods) completes through the webhook.
const PAID_STATUSES = new Set(["succeeded", "processing"]);

/**
 * readBack asks our API how the intent stands once Stripe.js has confirmed
 * it; the API reads it from Stripe and, if it succeeded, pays the order.
 * It never throws: the errors to show come back.
 */
async function readBack(intentId: string): Promise<ApiError[] | null> {
  const res = await apiRequest<ReadBack>("POST", `/api/payments/intents/${encodeURIComponent(intentId)}/confirm`);
  if (!res.ok) return res.errors;
  if (PAID_STATUSES.has(res.data.status)) return null;
  return [{ message: "The payment was not completed. Please try again." }];
}

/** The intent Stripe sent the buyer back with after a redirect-based payment method, if any. */
function returnedIntent(): string | null {
  if (typeof window === "undefined") return null;
  return new URLSearchParams(window.location.search).get("payment_intent");
}

/**
 * PayWithStripe shows Stripe's Payment Element (cards with 3-D Secure,
 * wallets, whatever the account has enabled) for the order's
 * PaymentIntent, which our API creates; Stripe.js confirms the payment on
 * the page and our API reads the outcome back from Stripe.
 */
export function PayWithStripe({ publishableKey, orderId, amount, onPaid }: Props) {
  const stripe = useMemo(() => loadStripe(publishableKey), [publishableKey]);
  const [intent, setIntent] = useState<Intent | null>(null);
  const [errors, setErrors] = useState<ApiError[]>([]);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const back = returnedIntent();
      if (back) {
        const errs = await readBack(back);
        if (cancelled) return;
        if (!errs) {
          onPaid();
          return;
        }
        setErrors(errs);
      }
      // The order may have been placed a moment ago: payments learns of it
      // through an event, and answers 404 until then.
      const res = await apiRequestAfterReplication<Intent>("POST", "/api/payments/intents", { orderId });
      if (cancelled) return;
      if (res.ok) setIntent(res.data);
      else setErrors(res.errors);
    })();
    return () => {
      cancelled = true;
    };
  }, [orderId, onPaid]);

  if (!intent) {
    return (
      <div className="stack" aria-busy={errors.length === 0}>
        <FormErrors errors={errors} />
        {errors.length === 0 && <p className="muted">Loading the payment form…</p>}
      </div>
    );
  }
  return (
    <Elements stripe={stripe} options={{ clientSecret: intent.clientSecret }}>
      <PaymentForm orderId={orderId} amount={amount} onPaid={onPaid} initialErrors={errors} />
    </Elements>
  );
}

function PaymentForm({
  orderId,
  amount,
  onPaid,
  initialErrors,
}: Omit<Props, "publishableKey"> & { initialErrors: ApiError[] }) {
  const stripe = useStripe();
  const elements = useElements();
  const [errors, setErrors] = useState<ApiError[]>(initialErrors);
  const [pending, setPending] = useState(false);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!stripe || !elements || pending) return;
    setPending(true);
    setErrors([]);
    const { error, paymentIntent } = await stripe.confirmPayment({
      elements,
      // Only redirect-based methods leave the page; they come back here,
      // and the page reads the outcome back on its return.
      confirmParams: { return_url: `${window.location.origin}/orders/${encodeURIComponent(orderId)}` },
      redirect: "if_required",
    });
    if (error || !paymentIntent) {
      setErrors([{ message: error?.message ?? "The payment could not be completed." }]);
      setPending(false);
      return;
    }
    const errs = await readBack(paymentIntent.id);
    setPending(false);
    if (!errs) {
      onPaid();
      return;
    }
    setErrors(errs);
  }

  return (
    <form onSubmit={onSubmit} className="form" aria-busy={pending}>
      <FormErrors errors={errors} />
      <fieldset className="card-fieldset">
        <legend>Payment details</legend>
        <div className="card-element">
          <PaymentElement />
        </div>
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={!stripe || !elements || pending}>
          {pending ? "Paying…" : `Pay ${formatPrice(amount)}`}
        </button>
      </div>
    </form>
  );
}
