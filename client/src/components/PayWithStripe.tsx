"use client";

import { CardElement, Elements, useElements, useStripe } from "@stripe/react-stripe-js";
import { loadStripe } from "@stripe/stripe-js";
import { useMemo, useState } from "react";
import { apiRequestAfterReplication } from "@/lib/api-client";
import { formatPrice } from "@/lib/format";
import type { ApiError } from "@/lib/types";
import { FormErrors } from "./ErrorMessages";

type Props = { publishableKey: string; orderId: string; amount: number; onPaid: () => void };

/**
 * PayWithStripe collects the card in Stripe's own iframe (Elements), turns
 * it into a token in the browser and sends only the token to our API.
 */
export function PayWithStripe({ publishableKey, ...rest }: Props) {
  const stripe = useMemo(() => loadStripe(publishableKey), [publishableKey]);
  return (
    <Elements stripe={stripe}>
      <CardForm {...rest} />
    </Elements>
  );
}

function CardForm({ orderId, amount, onPaid }: Omit<Props, "publishableKey">) {
  const stripe = useStripe();
  const elements = useElements();
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [pending, setPending] = useState(false);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const card = elements?.getElement(CardElement);
    if (!stripe || !card || pending) return;
    setPending(true);
    setErrors([]);
    const { token, error } = await stripe.createToken(card);
    if (error || !token) {
      setErrors([{ message: error?.message ?? "The card could not be read." }]);
      setPending(false);
      return;
    }
    const res = await apiRequestAfterReplication<{ id: string }>("POST", "/api/payments", { token: token.id, orderId });
    setPending(false);
    if (res.ok) {
      onPaid();
      return;
    }
    setErrors(res.errors);
  }

  return (
    <form onSubmit={onSubmit} className="form" aria-busy={pending}>
      <FormErrors errors={errors} />
      <fieldset className="card-fieldset">
        <legend>Card details</legend>
        <div className="card-element">
          <CardElement options={{ hidePostalCode: false, style: { base: { fontSize: "16px" } } }} />
        </div>
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={!stripe || pending}>
          {pending ? "Paying…" : `Pay ${formatPrice(amount)}`}
        </button>
      </div>
    </form>
  );
}
