import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Order } from "@/lib/types";
import { OrderPanel } from "./OrderPanel";
import { fetchSequence, sentBody } from "./testing";

const refresh = vi.fn();
vi.mock("next/navigation", () => ({ useRouter: () => ({ refresh }) }));

const now = Date.parse("2026-03-01T12:00:00.000Z");
// An order id made at 2026-03-01 11:59:30 UTC (an ObjectId starts with its second).
const orderId = (Date.parse("2026-03-01T11:59:30.000Z") / 1000).toString(16) + "00000000000a1b2c";

function order(over: Partial<Order> = {}): Order {
  return {
    id: orderId,
    userId: "u1",
    status: "created",
    expiresAt: new Date(now + 5 * 60_000).toISOString(),
    ticket: { id: "t1", title: "Concert", price: 20, version: 0 },
    version: 0,
    ...over,
  };
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  refresh.mockReset();
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
    expect(screen.getByText(/Time left to pay/)).toHaveTextContent("5:00");
    expect(screen.getByText("Awaiting payment")).toBeInTheDocument();
    expect(screen.getByText(/Test mode/)).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Pay with test card" }));
    expect(await screen.findByText("Payment received. Confirming your order…")).toBeInTheDocument();
    expect(fetchMock.mock.calls[0][0]).toBe("/api/payments");
    expect(sentBody(fetchMock)).toEqual({ token: "tok_visa", orderId });

    await act(async () => {
      await vi.advanceTimersByTimeAsync(2500);
    });
    expect(await screen.findByText(/Your order is complete/)).toBeInTheDocument();
    expect(screen.getByText("Complete")).toHaveAttribute("data-status", "complete");
    expect(screen.queryByRole("button", { name: "Pay with test card" })).not.toBeInTheDocument();
    expect(refresh).toHaveBeenCalled(); // the server then reads the payment for the receipt
  });

  it("shows the payment's refusal and lets the person try again", async () => {
    fetchSequence({ status: 400, body: { errors: [{ message: "Order has expired" }] } });
    render(<OrderPanel order={order({ expiresAt: new Date(Date.now() + 5 * 60_000).toISOString() })} serverNow={Date.now()} />);
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

  it("shows a completed order's receipt", () => {
    const receipt = { id: orderId, orderId, stripeId: "ch_3Abc", amount: 20 };
    render(<OrderPanel order={order({ status: "complete" })} serverNow={now} receipt={receipt} />);
    const facts = within(screen.getByRole("region", { name: "Receipt" }));
    expect(facts.getByText("Order number").nextSibling).toHaveTextContent(orderId);
    expect(facts.getByText("Date").nextSibling).toHaveTextContent("1 Mar 2026, 11:59 UTC");
    expect(facts.getByText("Amount paid").nextSibling).toHaveTextContent("$20.00");
    expect(facts.getByText("Payment reference").nextSibling).toHaveTextContent("ch_3Abc");
    expect(facts.getByRole("link", { name: "Concert" })).toHaveAttribute("href", "/tickets/t1");
  });

  it("shows the receipt without a reference when the payment cannot be read", () => {
    render(<OrderPanel order={order({ status: "complete" })} serverNow={now} receipt={null} />);
    const facts = within(screen.getByRole("region", { name: "Receipt" }));
    expect(facts.getByText("Payment reference").nextSibling).toHaveTextContent("Not available right now");
    expect(facts.getByText("Amount paid").nextSibling).toHaveTextContent("$20.00");
  });
});
