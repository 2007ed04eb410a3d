"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { apiRequest } from "@/lib/api-client";
import { generalErrors, messagesFor } from "@/lib/errors";
import { priceForApi, tidyPrice } from "@/lib/format";
import { withNotice } from "@/lib/notices";
import type { ApiError, Ticket } from "@/lib/types";
import { FormErrors } from "./ErrorMessages";
import { TextField } from "./TextField";

const FIELDS = ["title", "price"] as const;
/** The API's limit on a title (CONTRACT.md §2), counted after trimming. */
export const MAX_TITLE_LENGTH = 200;

type Props =
  | { mode: "create"; ticket?: undefined }
  | { mode: "edit"; ticket: Ticket };

/** TicketForm lists a new ticket, or changes the title and price of one. */
export function TicketForm({ mode, ticket }: Props) {
  const router = useRouter();
  const [title, setTitle] = useState(ticket?.title ?? "");
  const [price, setPrice] = useState(ticket ? ticket.price.toFixed(2) : "");
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [pending, setPending] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (pending) return;
    setPending(true);
    setErrors([]);
    const body = { title, price: priceForApi(price) };
    const res =
      mode === "create"
        ? await apiRequest<Ticket>("POST", "/api/tickets", body)
        : await apiRequest<Ticket>("PUT", `/api/tickets/${ticket.id}`, body);
    if (res.ok) {
      router.push(mode === "create" ? withNotice("/", "listed") : withNotice(`/tickets/${res.data.id}`, "saved"));
      return;
    }
    setErrors(res.errors);
    setPending(false);
  }

  const submit = mode === "create" ? (pending ? "Listing…" : "List ticket") : pending ? "Saving…" : "Save changes";
  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate className="form" aria-busy={pending}>
      <FormErrors errors={generalErrors(errors, FIELDS)} />
      <TextField
        name="title"
        label="Title"
        hint={`The event, e.g. “Concert, row 5 seat 12”. At most ${MAX_TITLE_LENGTH} characters: ${[...title.trim()].length} used.`}
        value={title}
        onChange={setTitle}
        errors={messagesFor(errors, "title")}
      />
      <TextField
        name="price"
        label="Price (USD)"
        hint="More than 0 and at most 1,000,000, with at most 2 decimals; it is never rounded for you."
        inputMode="decimal"
        prefix="$"
        value={price}
        onChange={setPrice}
        onBlur={() => setPrice(tidyPrice(price))}
        errors={messagesFor(errors, "price")}
      />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={pending}>
          {submit}
        </button>
      </div>
    </form>
  );
}
