const usd = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

/** formatPrice shows a price in dollars with two decimals: 20 -> "$20.00". */
export function formatPrice(price: number): string {
  return usd.format(price);
}

/**
 * secondsLeft is how many whole seconds remain until expiresAt, rounded up so
 * that "0:00" appears only once the time is really over; never negative.
 * An unreadable date counts as already expired.
 */
export function secondsLeft(expiresAt: string, now: number): number {
  const end = Date.parse(expiresAt);
  if (Number.isNaN(end)) return 0;
  return Math.max(0, Math.ceil((end - now) / 1000));
}

/** formatTimeLeft renders seconds as m:ss, or h:mm:ss from an hour up. */
export function formatTimeLeft(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  const ss = String(seconds).padStart(2, "0");
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, "0")}:${ss}`;
  return `${minutes}:${ss}`;
}

/** formatDay is a date as a person reads it, in UTC: "4 Dec 2026". */
export function formatDay(iso: string): string {
  return new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(new Date(iso));
}

/**
 * priceForApi sends what the person typed as a number when it is a plain
 * decimal, and otherwise as typed, so the API's own rule explains what is
 * wrong with it ("Price must be greater than 0").
 */
export function priceForApi(input: string): number | string {
  const s = input.trim();
  return /^\d+(\.\d+)?$/.test(s) ? Number(s) : s;
}

/**
 * tidyPrice pads a typed price to two decimals ("12.5" -> "12.50"). A price
 * with more decimals is left as typed, never rounded: the API then says
 * which rule it breaks, on blur and on Enter alike.
 */
export function tidyPrice(input: string): string {
  const s = input.trim();
  if (!/^\d*(\.\d{0,2})?$/.test(s) || s === "" || s === ".") return input;
  return Number(s).toFixed(2);
}

/**
 * formatHold says how long a hold lasts, as a person would: 900 ->
 * "15 minutes", 90 -> "1 minute 30 seconds", 5 -> "5 seconds".
 */
export function formatHold(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  const part = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  const parts: string[] = [];
  if (hours > 0) parts.push(part(hours, "hour"));
  if (minutes > 0) parts.push(part(minutes, "minute"));
  if (seconds > 0 || parts.length === 0) parts.push(part(seconds, "second"));
  return parts.join(" ");
}

/** formatMoment is a date and time as a person reads it, in UTC: "4 Dec 2026, 03:50 UTC". */
export function formatMoment(iso: string): string {
  const at = new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: "UTC",
  }).format(new Date(iso));
  return `${at} UTC`;
}

/**
 * idTime is when a record was made, read from its id: an ObjectId starts
 * with its creation time in seconds. The API's orders carry no date of
 * their own (CONTRACT.md §1.3), and this one is exact to the second. Null
 * for anything that is not an ObjectId.
 */
export function idTime(id: string): string | null {
  if (!/^[0-9a-f]{24}$/i.test(id)) return null;
  return new Date(parseInt(id.slice(0, 8), 16) * 1000).toISOString();
}
