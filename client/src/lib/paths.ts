/**
 * safeNext accepts only a path on this site for "go back there after signing
 * in", so a crafted link cannot send a person elsewhere ("//evil.example",
 * "https://...", "/\\evil").
 */
export function safeNext(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  return value;
}

export function signinPath(next: string): string {
  return next === "/" ? "/auth/signin" : `/auth/signin?next=${encodeURIComponent(next)}`;
}
