import { afterEach, describe, expect, it, vi } from "vitest";
import { apiRequest, apiRequestAfterReplication } from "./api-client";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("apiRequest", () => {
  it("sends JSON to the same origin and returns the data", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ id: "t1" }), { status: 201 }));
    vi.stubGlobal("fetch", fetchMock);
    const res = await apiRequest("POST", "/api/tickets", { title: "A", price: 5 });
    expect(res).toEqual({ ok: true, status: 201, data: { id: "t1" } });
    expect(fetchMock).toHaveBeenCalledWith("/api/tickets", {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ title: "A", price: 5 }),
    });
  });

  it("returns the API's errors", async () => {
    vi.stubGlobal("fetch", async () => new Response(JSON.stringify({ errors: [{ message: "Ticket is already reserved" }] }), { status: 400 }));
    expect(await apiRequest("POST", "/api/orders", {})).toEqual({ ok: false, status: 400, errors: [{ message: "Ticket is already reserved" }] });
  });

  it("turns an HTML error page into a sentence", async () => {
    vi.stubGlobal("fetch", async () => new Response("<html>502 Bad Gateway</html>", { status: 502 }));
    const res = await apiRequest("GET", "/api/orders");
    expect(res.ok).toBe(false);
    expect(!res.ok && res.errors[0].message).toMatch(/not available/);
  });

  it("never throws when the network fails", async () => {
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch");
    });
    expect(await apiRequest("GET", "/api/orders")).toEqual({
      ok: false,
      status: 0,
      errors: [{ message: "Could not reach the server. Check your connection and try again." }],
    });
  });

  it("accepts an empty success body (204)", async () => {
    vi.stubGlobal("fetch", async () => new Response(null, { status: 204 }));
    expect(await apiRequest("DELETE", "/api/orders/1")).toEqual({ ok: true, status: 204, data: null });
  });
});

describe("apiRequestAfterReplication", () => {
  it("asks again while the service has not heard of the record yet", async () => {
    const answers = [404, 404, 201];
    const fetchMock = vi.fn(async () => {
      const status = answers.shift()!;
      return new Response(JSON.stringify(status === 201 ? { id: "o1" } : { errors: [{ message: "Not Found" }] }), { status });
    });
    vi.stubGlobal("fetch", fetchMock);
    const res = await apiRequestAfterReplication("POST", "/api/orders", { ticketId: "t" }, { delayMs: 1 });
    expect(res).toEqual({ ok: true, status: 201, data: { id: "o1" } });
    expect(fetchMock).toHaveBeenCalledTimes(3);
  });

  it("gives up after its attempts and returns the 404", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ errors: [{ message: "Not Found" }] }), { status: 404 }));
    vi.stubGlobal("fetch", fetchMock);
    const res = await apiRequestAfterReplication("POST", "/api/payments", {}, { attempts: 3, delayMs: 1 });
    expect(res).toEqual({ ok: false, status: 404, errors: [{ message: "Not Found" }] });
    expect(fetchMock).toHaveBeenCalledTimes(3);
  });

  it("does not repeat any other refusal", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ errors: [{ message: "Ticket is already reserved" }] }), { status: 400 }));
    vi.stubGlobal("fetch", fetchMock);
    const res = await apiRequestAfterReplication("POST", "/api/orders", {}, { delayMs: 1 });
    expect(res.ok).toBe(false);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
