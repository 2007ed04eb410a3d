import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PurchaseButton } from "./PurchaseButton";
import { fetchSequence, sentBody } from "./testing";

const push = vi.fn();
vi.mock("next/navigation", () => ({ useRouter: () => ({ push }) }));

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  push.mockReset();
});

describe("PurchaseButton", () => {
  it.each([
    [900, "Purchase held for you 15 minutes"],
    [5, "Purchase held for you 5 seconds"],
  ])("says how long a %s s hold lasts", (holdSeconds, name) => {
    render(<PurchaseButton ticketId="t1" holdSeconds={holdSeconds} />);
    expect(screen.getByRole("button")).toHaveAccessibleName(name);
  });

  it("reserves the ticket and opens the order with a word on it", async () => {
    const fetchMock = fetchSequence({ status: 201, body: { id: "o1" } });
    await userEvent.setup().click(render(<PurchaseButton ticketId="t1" holdSeconds={900} />).getByRole("button", { name: /^Purchase/ }));
    await vi.waitFor(() => expect(push).toHaveBeenCalledWith("/orders/o1?notice=reserved"));
    expect(sentBody(fetchMock)).toEqual({ ticketId: "t1" });
  });

  it("says when someone else holds the ticket", async () => {
    fetchSequence({ status: 400, body: { errors: [{ message: "Ticket is already reserved" }] } });
    await userEvent.setup().click(render(<PurchaseButton ticketId="t1" holdSeconds={900} />).getByRole("button", { name: /^Purchase/ }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Ticket is already reserved");
    expect(screen.getByRole("button", { name: /^Purchase/ })).toBeEnabled();
    expect(push).not.toHaveBeenCalled();
  });

  it("explains a ticket the orders service does not know (yet)", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const fetchMock = fetchSequence({ status: 404, body: { errors: [{ message: "Not Found" }] } });
    await userEvent.setup({ advanceTimers: vi.advanceTimersByTime }).click(render(<PurchaseButton ticketId="t1" holdSeconds={900} />).getByRole("button", { name: /^Purchase/ }));
    await vi.runAllTimersAsync();
    expect(await screen.findByRole("alert")).toHaveTextContent("This ticket can’t be bought right now. Please try again in a moment.");
    expect(fetchMock.mock.calls.length).toBeGreaterThan(1);
  });
});
