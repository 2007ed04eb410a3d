import type { ApiError } from "./types";

const GENERIC = "Something went wrong. Please try again.";

/**
 * toApiErrors turns any error response into the contract's list of errors.
 * Our services always send {"errors":[...]}, but a proxy in between (nginx
 * with a service down, say) answers with HTML or nothing, and a person still
 * deserves a sentence rather than a blank form.
 */
export function toApiErrors(status: number, body: unknown): ApiError[] {
  if (body && typeof body === "object" && Array.isArray((body as { errors?: unknown }).errors)) {
    const errors = (body as { errors: unknown[] }).errors.flatMap((e): ApiError[] => {
      if (!e || typeof e !== "object" || typeof (e as ApiError).message !== "string") return [];
      const { message, field } = e as ApiError;
      return typeof field === "string" && field !== "" ? [{ message, field }] : [{ message }];
    });
    if (errors.length > 0) return errors;
  }
  if (status === 0) return [{ message: "Could not reach the server. Check your connection and try again." }];
  if (status === 502 || status === 503 || status === 504) {
    return [{ message: "The service is not available right now. Please try again in a moment." }];
  }
  return [{ message: GENERIC }];
}

/** Messages about one form field, in the order the API gave them. */
export function messagesFor(errors: ApiError[], field: string): string[] {
  return errors.filter((e) => e.field === field).map((e) => e.message);
}

/**
 * Errors that belong to no field the form shows: business rules ("Email in
 * use") and anything about a field the form does not have, so no message is
 * ever dropped.
 */
export function generalErrors(errors: ApiError[], formFields: readonly string[]): ApiError[] {
  return errors.filter((e) => !e.field || !formFields.includes(e.field));
}
