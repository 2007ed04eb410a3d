import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Order } from "@/lib/types";
import { OrderPanel } from "./OrderPanel";
import { fetchSequence, sentBody } from "./testing";

const now = Date.parse("2026-03-01T12:00:00.000Z");

function order(over: Partial<Order> = {}): Order {
  return {
    id: "o1",
    userId: "u1",
    status: "created",
    expiresAt: new Date(now + 60_000).toISOString(),
    ticket: { id: "t1", title: "Concert", price: 20, version: 0 },
    version: 0,
    ...over,
  };
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("OrderPanel", () => {
  it("pays with the test card, then shows the order complete once the API says so", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    vi.setSystemTime(now);
    const fetchMock = fetchSequence(
      { status: 201, body: { id: "p1" } },
      { status: 200, body: order() },
      { status: 200, body: order({ status: "complete", version: 1 }) },
    );
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    render(<OrderPanel order={order()} serverNow={now} />);
    expect(screen.getByText(/Time left to pay/)).toHaveTextContent("1:00");
    expect(screen.getByText("Awaiting payment")).toBeInTheDocument();
    expect(screen.getByText(/Test mode/)).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Pay with test card" }));
    expect(await screen.findByText("Payment received. Confirming your order…")).toBeInTheDocument();
    expect(fetchMock.mock.calls[0][0]).toBe("/api/payments");
    expect(sentBody(fetchMock)).toEqual({ token: "tok_visa", orderId: "o1" });

    await act(async () => {
      await vi.advanceTimersByTimeAsync(2500);
    });
    expect(await screen.findByText(/Your order is complete/)).toBeInTheDocument();
    expect(screen.getByText("Complete")).toHaveAttribute("data-status", "complete");
    expect(screen.queryByRole("button", { name: "Pay with test card" })).not.toBeInTheDocument();
  });

  it("shows the payment's refusal and lets the person try again", async () => {
    fetchSequence({ status: 400, body: { errors: [{ message: "Order has expired" }] } });
    render(<OrderPanel order={order({ expiresAt: new Date(Date.now() + 60_000).toISOString() })} serverNow={Date.now()} />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Pay with test card" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Order has expired");
    expect(screen.getByRole("button", { name: "Pay with test card" })).toBeEnabled();
  });

  it("hides paying once the hold runs out", () => {
    vi.useFakeTimers();
    vi.setSystemTime(now);
    render(<OrderPanel order={order({ expiresAt: new Date(now + 2000).toISOString() })} serverNow={now} />);
    expect(screen.getByRole("button", { name: "Pay with test card" })).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(2500));
    expect(screen.getByText("Order expired")).toBeInTheDocument();
    expect(screen.getByText("Expired")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Pay with test card" })).not.toBeInTheDocument();
  });

  it.each([
    { status: "complete" as const, text: /Your order is complete/ },
    { status: "cancelled" as const, text: /This order was cancelled/ },
  ])("shows a $status order without a way to pay", ({ status, text }) => {
    render(<OrderPanel order={order({ status, expiresAt: new Date(Date.now() + 60_000).toISOString() })} serverNow={Date.now()} />);
    expect(screen.getByText(text)).toBeInTheDocument();
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
  });
});
