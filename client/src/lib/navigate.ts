/**
 * hardNavigate loads url as a new page. After signing in or out the session
 * cookie has changed, and a full load is the one way to be sure nothing
 * rendered for the previous visitor (the header, cached pages) survives.
 */
export function hardNavigate(url: string): void {
  window.location.assign(url);
}
