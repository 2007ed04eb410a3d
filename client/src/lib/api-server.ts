import http from "node:http";
import https from "node:https";
import { cache } from "react";
import { headers } from "next/headers";
import { redirect, unstable_rethrow } from "next/navigation";
import { parseApiRoutes, routeFor } from "./api-routes";
import { signinPath } from "./paths";
import type { CurrentUser, Listing, Order, Receipt, Ticket } from "./types";

// How long a server-side render waits for the API before showing the error page.
const TIMEOUT_MS = 10_000;

type RawResponse = { status: number; body: unknown };

/**
 * ApiUnavailable means the API could not be asked or answered with a server
 * error; the page's error boundary shows a friendly message.
 */
export class ApiUnavailable extends Error {}

/**
 * apiURL is where the server asks for path: the service the Ingress would
 * route it to when API_ROUTES is set (a cluster), else the local nginx at
 * API_INTERNAL_URL (one machine). Both come only from the environment, so
 * the same build runs anywhere.
 */
function apiURL(path: string): URL {
  const routes = process.env.API_ROUTES;
  if (routes) {
    let route;
    try {
      route = routeFor(parseApiRoutes(routes), path);
    } catch (err) {
      throw new ApiUnavailable(err instanceof Error ? err.message : String(err));
    }
    if (!route) throw new ApiUnavailable(`API_ROUTES has no route for ${path}`);
    return new URL(path, route.base);
  }
  const raw = process.env.API_INTERNAL_URL;
  if (!raw) throw new ApiUnavailable("neither API_ROUTES nor API_INTERNAL_URL is set: the server cannot reach the API");
  const base = new URL(raw);
  return new URL(base.pathname.replace(/\/$/, "") + path, base);
}

/**
 * serverGet asks the API for path as the visitor: their Cookie header goes
 * along. It uses node:http rather than fetch because fetch will not send a
 * Host header of our choosing, and a local nginx that routes by host needs
 * one when reached by its address (API_HOST).
 */
async function serverGet(path: string): Promise<RawResponse> {
  // Asked first: reading the request makes Next render every page per
  // request, never once at build time for everyone.
  const cookie = (await headers()).get("cookie");
  const url = apiURL(path);
  const reqHeaders: Record<string, string> = { accept: "application/json" };
  if (cookie) reqHeaders.cookie = cookie;
  const host = process.env.API_HOST;
  if (host) reqHeaders.host = host;
  const lib = url.protocol === "https:" ? https : http;

  return new Promise<RawResponse>((resolve, reject) => {
    const req = lib.request(url, { method: "GET", headers: reqHeaders, timeout: TIMEOUT_MS, servername: host || undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = null;
        try {
          body = text === "" ? null : JSON.parse(text);
        } catch {
          body = null;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("timeout", () => req.destroy(new ApiUnavailable(`GET ${path}: no answer within ${TIMEOUT_MS} ms`)));
    req.on("error", (err) => reject(err instanceof ApiUnavailable ? err : new ApiUnavailable(`GET ${path}: ${err.message}`)));
    req.end();
  });
}

function unexpected(path: string, res: RawResponse): ApiUnavailable {
  return new ApiUnavailable(`GET ${path}: unexpected status ${res.status}`);
}

/**
 * Session is who the visitor is (null when signed out), and whether the
 * auth service could be asked at all: when it could not, the visitor is
 * treated as signed out for this page, and the header says so rather than
 * letting them think they were signed out.
 */
export type Session = { user: CurrentUser | null; authUnavailable: boolean };

/** getSession asks the auth service once per request however many components want it. */
export const getSession = cache(async (): Promise<Session> => {
  try {
    const res = await serverGet("/api/users/currentuser");
    if (res.status >= 500) {
      console.error(`currentuser: status ${res.status}`);
      return { user: null, authUnavailable: true };
    }
    const user = (res.body as { currentUser?: CurrentUser | null } | null)?.currentUser;
    if (res.status !== 200 || !user) return { user: null, authUnavailable: false };
    return { user: { id: user.id, email: user.email }, authUnavailable: false };
  } catch (err) {
    unstable_rethrow(err); // Next's own signals (this page is dynamic) are not failures
    console.error("currentuser:", err instanceof Error ? err.message : err);
    return { user: null, authUnavailable: true };
  }
});

/** getCurrentUser is who the visitor is, or null (signed out, or auth unavailable). */
export async function getCurrentUser(): Promise<CurrentUser | null> {
  return (await getSession()).user;
}

/** requireUser sends an anonymous visitor to sign in, and back to here after. */
export async function requireUser(here: string): Promise<CurrentUser> {
  const user = await getCurrentUser();
  if (!user) redirect(signinPath(here));
  return user;
}

/** getTickets lists tickets on sale, newest first, a page at a time. */
export async function getTickets(opts: { limit: number; before?: string }): Promise<Ticket[]> {
  const q = new URLSearchParams({ limit: String(opts.limit) });
  if (opts.before) q.set("before", opts.before);
  const path = `/api/tickets?${q}`;
  const res = await serverGet(path);
  if (res.status === 400 && opts.before) return []; // a stale or mangled "before" link
  if (res.status !== 200 || !Array.isArray(res.body)) throw unexpected(path, res);
  return res.body as Ticket[];
}

/** getMyListings is the visitor's own tickets in every state, newest first. */
export async function getMyListings(here: string, opts: { limit: number; before?: string }): Promise<Listing[]> {
  const q = new URLSearchParams({ limit: String(opts.limit) });
  if (opts.before) q.set("before", opts.before);
  const path = `/api/tickets/mine?${q}`;
  const res = await serverGet(path);
  if (res.status === 401) redirect(signinPath(here));
  if (res.status === 400 && opts.before) return []; // a stale or mangled "before" link
  if (res.status !== 200 || !Array.isArray(res.body)) throw unexpected(path, res);
  return res.body as Listing[];
}

/** getTicket is one ticket, or null when there is no such ticket. */
export const getTicket = cache(async (id: string): Promise<Ticket | null> => {
  const path = `/api/tickets/${encodeURIComponent(id)}`;
  const res = await serverGet(path);
  if (res.status === 404 || res.status === 400) return null;
  if (res.status !== 200) throw unexpected(path, res);
  return res.body as Ticket;
});

/** getOrders is the visitor's orders as the API gives them (oldest first). */
export async function getOrders(here: string): Promise<Order[]> {
  const path = "/api/orders";
  const res = await serverGet(path);
  if (res.status === 401) redirect(signinPath(here));
  if (res.status !== 200 || !Array.isArray(res.body)) throw unexpected(path, res);
  return res.body as Order[];
}

/**
 * getOrder is one of the visitor's orders, or null when there is no such
 * order or it is someone else's: we do not tell those apart for a stranger.
 */
export const getOrder = cache(async (id: string, here: string): Promise<Order | null> => {
  const path = `/api/orders/${encodeURIComponent(id)}`;
  const res = await serverGet(path);
  if (res.status === 404 || res.status === 400) return null;
  if (res.status === 401) {
    if (!(await getCurrentUser())) redirect(signinPath(here));
    return null;
  }
  if (res.status !== 200) throw unexpected(path, res);
  return res.body as Order;
});

/**
 * getReceipt is a paid order's payment (its Stripe reference), or null when
 * the payments service has none or cannot say: a receipt then shows the
 * order without it rather than failing the page.
 */
export async function getReceipt(orderId: string): Promise<Receipt | null> {
  const path = `/api/payments/${encodeURIComponent(orderId)}`;
  try {
    const res = await serverGet(path);
    if (res.status === 200) return res.body as Receipt;
    if (res.status >= 500) console.error(`${path}: status ${res.status}`);
    return null;
  } catch (err) {
    unstable_rethrow(err);
    console.error(`${path}:`, err instanceof Error ? err.message : err);
    return null;
  }
}

/** holdSeconds is how long the orders service holds a ticket (its EXPIRATION_WINDOW_SECONDS). */
export function holdSeconds(): number {
  const n = Number(process.env.EXPIRATION_WINDOW_SECONDS);
  return Number.isInteger(n) && n > 0 ? n : 900;
}
