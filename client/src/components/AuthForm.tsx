"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { apiRequest } from "@/lib/api-client";
import { generalErrors, messagesFor } from "@/lib/errors";
import { hardNavigate } from "@/lib/navigate";
import { withNotice } from "@/lib/notices";
import type { ApiError, CurrentUser } from "@/lib/types";
import { FormErrors } from "./ErrorMessages";
import { TextField } from "./TextField";

const FIELDS = ["email", "password"] as const;

type Mode = "signup" | "signin";

const TEXT: Record<Mode, { submit: string; pending: string; other: string; otherHref: string; otherText: string }> = {
  signup: { submit: "Sign up", pending: "Signing up…", other: "Already have an account?", otherHref: "/auth/signin", otherText: "Sign in" },
  signin: { submit: "Sign in", pending: "Signing in…", other: "New here?", otherHref: "/auth/signup", otherText: "Create an account" },
};

/**
 * AuthForm signs a person up or in through the API and then loads `next`.
 * The browser sends no validation of its own (noValidate), so the API's
 * messages are the ones shown, each next to its field.
 */
export function AuthForm({ mode, next }: { mode: Mode; next: string }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [pending, setPending] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const text = TEXT[mode];

  useEffect(() => {
    // Put the keyboard where the first problem is.
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (pending) return;
    setPending(true);
    setErrors([]);
    const res = await apiRequest<CurrentUser>("POST", `/api/users/${mode}`, { email, password });
    if (res.ok) {
      hardNavigate(withNotice(next, mode === "signup" ? "signed-up" : "signed-in"));
      return; // stay "pending" while the next page loads
    }
    setErrors(res.errors);
    setPending(false);
  }

  const otherHref = next === "/" ? text.otherHref : `${text.otherHref}?next=${encodeURIComponent(next)}`;
  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate className="form" aria-busy={pending}>
      <FormErrors errors={generalErrors(errors, FIELDS)} />
      <TextField name="email" label="Email" type="email" autoComplete="email" inputMode="email" value={email} onChange={setEmail} errors={messagesFor(errors, "email")} />
      <TextField
        name="password"
        label="Password"
        type="password"
        autoComplete={mode === "signup" ? "new-password" : "current-password"}
        hint={mode === "signup" ? "4 to 20 characters." : undefined}
        value={password}
        onChange={setPassword}
        errors={messagesFor(errors, "password")}
      />
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? text.pending : text.submit}
        </button>
        <p className="form-aside">
          {text.other} <Link href={otherHref}>{text.otherText}</Link>
        </p>
      </div>
    </form>
  );
}
