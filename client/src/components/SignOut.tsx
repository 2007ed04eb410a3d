"use client";

import { useEffect, useRef, useState } from "react";
import { apiRequest } from "@/lib/api-client";
import { hardNavigate } from "@/lib/navigate";
import { withNotice } from "@/lib/notices";
import type { ApiError } from "@/lib/types";
import { FormErrors } from "./ErrorMessages";

/** SignOut ends the session as soon as the page opens, then goes home. */
export function SignOut() {
  const [errors, setErrors] = useState<ApiError[]>([]);
  const started = useRef(false);

  async function signOut() {
    setErrors([]);
    const res = await apiRequest<object>("POST", "/api/users/signout", {});
    if (res.ok) {
      hardNavigate(withNotice("/", "signed-out"));
      return;
    }
    setErrors(res.errors);
  }

  useEffect(() => {
    // Strict mode runs effects twice in development; sign out once.
    if (started.current) return;
    started.current = true;
    void signOut();
  }, []);

  if (errors.length === 0) {
    return (
      <p role="status" className="muted">
        Signing you out…
      </p>
    );
  }
  return (
    <div className="stack">
      <FormErrors errors={errors} />
      <div>
        <button type="button" className="button" onClick={() => void signOut()}>
          Try again
        </button>
      </div>
    </div>
  );
}
