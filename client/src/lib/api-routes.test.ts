import { describe, expect, it } from "vitest";
import { parseApiRoutes, routeFor } from "./api-routes";

const routes = parseApiRoutes("/api/users auth 3000 /api/tickets tickets 3000\n  /api/orders orders 3000 /api/payments payments 3001");

describe("routeFor", () => {
  it.each([
    ["/api/users/currentuser", "http://auth:3000/"],
    ["/api/tickets?limit=10&before=abc", "http://tickets:3000/"],
    ["/api/tickets/0123456789abcdef01234567", "http://tickets:3000/"],
    ["/api/orders", "http://orders:3000/"],
    ["/api/payments", "http://payments:3001/"],
    ["/api/usersx", undefined],
    ["/api/nope", undefined],
    ["/", undefined],
  ])("%s -> %s", (path, want) => {
    expect(routeFor(routes, path)?.base.toString()).toBe(want);
  });

  it("picks the longest prefix, as the Ingress does", () => {
    const r = parseApiRoutes("/api api 3000 /api/tickets tickets 3000");
    expect(routeFor(r, "/api/tickets/1")?.base.host).toBe("tickets:3000");
    expect(routeFor(r, "/api/orders")?.base.host).toBe("api:3000");
  });
});

describe("parseApiRoutes", () => {
  it.each([
    [""],
    ["/api/users auth"],
    ["/api/users auth port"],
    ["api/users auth 3000"],
    ["/api/users Auth_Service 3000"],
    // The placeholder the base manifest carries until its replacements run.
    ["path service port"],
  ])("refuses %j", (raw) => {
    expect(() => parseApiRoutes(raw)).toThrow(/API_ROUTES/);
  });
});
