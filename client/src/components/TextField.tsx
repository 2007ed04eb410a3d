import { FieldError } from "./ErrorMessages";

type Props = {
  name: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  onBlur?: () => void;
  errors: string[];
  type?: "text" | "email" | "password";
  autoComplete?: string;
  inputMode?: "text" | "decimal" | "email";
  hint?: string;
  prefix?: string;
};

/**
 * TextField is a labelled input with its hint and its field errors tied to
 * it, so the form is usable from the keyboard and with a screen reader.
 */
export function TextField({ name, label, value, onChange, onBlur, errors, type = "text", autoComplete, inputMode, hint, prefix }: Props) {
  const id = `field-${name}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [hint ? hintId : "", errors.length > 0 ? errorId : ""].filter(Boolean).join(" ") || undefined;
  const input = (
    <input
      id={id}
      name={name}
      type={type}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      onBlur={onBlur}
      autoComplete={autoComplete}
      inputMode={inputMode}
      aria-invalid={errors.length > 0 ? true : undefined}
      aria-describedby={describedBy}
    />
  );
  return (
    <div className={errors.length > 0 ? "field has-error" : "field"}>
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {prefix ? (
        <div className="input-prefixed">
          <span aria-hidden="true">{prefix}</span>
          {input}
        </div>
      ) : (
        input
      )}
      <FieldError id={errorId} messages={errors} />
    </div>
  );
}
