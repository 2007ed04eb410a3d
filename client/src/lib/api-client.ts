import { toApiErrors } from "./errors";
import type { ApiError } from "./types";

export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; errors: ApiError[] };

/**
 * apiRequest calls the API from the browser on this same origin, so the
 * ingress routes it and the session cookie travels both ways by itself.
 * It never throws: a failure comes back as the errors to show.
 */
export async function apiRequest<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, errors: toApiErrors(0, null) };
  }
  let data: unknown = null;
  const text = await res.text().catch(() => "");
  if (text !== "") {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) return { ok: false, status: res.status, errors: toApiErrors(res.status, data) };
  return { ok: true, status: res.status, data: data as T };
}

/**
 * apiRequestAfterReplication is apiRequest for a call that names a record
 * another service has only just created: the order for a ticket listed a
 * moment ago, the payment for an order placed a moment ago. The service
 * asked learns of the record through an event, so for a short while it
 * answers 404; ask again a few times before saying so.
 */
export async function apiRequestAfterReplication<T>(
  method: string,
  path: string,
  body: unknown,
  opts: { attempts?: number; delayMs?: number } = {},
): Promise<ApiResult<T>> {
  const attempts = opts.attempts ?? 6;
  const delayMs = opts.delayMs ?? 500;
  for (let i = 1; ; i++) {
    const res = await apiRequest<T>(method, path, body);
    if (res.ok || res.status !== 404 || i >= attempts) return res;
    await new Promise((r) => setTimeout(r, delayMs));
  }
}
