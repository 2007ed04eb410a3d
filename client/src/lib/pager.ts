/**
 * A list paged by "before" (the last id already shown) can only walk to
 * older pages. To walk back, each link carries the trail of "before" values
 * that led to it, newest first page excluded: "← Newer" pops one. The trail
 * lives in the URL, so it survives a reload and a shared link.
 */

/** The longest trail kept; past it, "← Newer" from the oldest pages lands on the first page. */
export const MAX_TRAIL = 40;

const ID = /^[0-9a-f]{24}$/i;

export type PageLinks = { newer: string | null; older: string | null };

/** readTrail takes the trail from a query value, keeping only well-formed ids. */
export function readTrail(raw: string | string[] | undefined): string[] {
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return [];
  return value
    .split(".")
    .filter((id) => ID.test(id))
    .slice(-MAX_TRAIL);
}

function href(base: string, before: string | undefined, trail: string[]): string {
  if (!before) return base;
  const q = new URLSearchParams({ before });
  if (trail.length > 0) q.set("trail", trail.join("."));
  return `${base}?${q}`;
}

/**
 * pageLinks are the "← Newer" and "Older →" links of the page at base shown
 * with before and trail; last is the last id on the page when the page is
 * full (there may be older ones), else null.
 */
export function pageLinks(base: string, before: string | undefined, trail: string[], last: string | null): PageLinks {
  const newer = before ? href(base, trail[trail.length - 1], trail.slice(0, -1)) : null;
  const older = last ? href(base, last, before ? [...trail, before].slice(-MAX_TRAIL) : []) : null;
  return { newer, older };
}
