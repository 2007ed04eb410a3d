import type { ApiError } from "@/lib/types";

/**
 * FieldError shows the API's messages about one field right under it; the
 * input points at it with aria-describedby, so a screen reader reads it too.
 */
export function FieldError({ id, messages }: { id: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <div id={id} className="field-error">
      {messages.map((m) => (
        <p key={m}>{m}</p>
      ))}
    </div>
  );
}

/** FormErrors shows the errors that belong to the form as a whole. */
export function FormErrors({ errors }: { errors: ApiError[] }) {
  if (errors.length === 0) return null;
  return (
    <div role="alert" className="alert alert-error">
      {errors.length === 1 ? (
        <p>{errors[0].message}</p>
      ) : (
        <ul>
          {errors.map((e, i) => (
            <li key={`${i}-${e.message}`}>{e.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
