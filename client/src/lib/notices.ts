/**
 * After an action the page it lands on says what happened: the action puts
 * a notice code in the URL (?notice=listed), the page shows its message
 * once and drops the code from the address bar. Only these codes are
 * shown, so a crafted link cannot put words on the page.
 */
export const NOTICES = {
  listed: "Your ticket is listed and on sale.",
  saved: "Your changes are saved.",
  withdrawn: "Your listing is withdrawn: buyers no longer see it.",
  "signed-up": "Welcome! Your account is ready and you are signed in.",
  "signed-in": "You are signed in.",
  "signed-out": "You are signed out.",
  reserved: "The ticket is yours while you pay.",
} as const;

export type NoticeCode = keyof typeof NOTICES;

/** noticeMessage is the message for a code from a query, or null. */
export function noticeMessage(raw: string | string[] | undefined): string | null {
  const code = Array.isArray(raw) ? raw[0] : raw;
  if (!code || !Object.hasOwn(NOTICES, code)) return null;
  return NOTICES[code as NoticeCode];
}

/** withNotice adds a notice code to a path on this site, keeping its query. */
export function withNotice(path: string, code: NoticeCode): string {
  const url = new URL(path, "http://site.invalid");
  url.searchParams.set("notice", code);
  return url.pathname + url.search + url.hash;
}
