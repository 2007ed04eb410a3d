import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OrderPanel } from "./OrderPanel";
import { fetchSequence, sentBody } from "./testing";

// Stripe's own iframe cannot load here; stand-ins play its part: the card
// element is a box, and the card always turns into the token "tok_from_card".
const createToken = vi.fn(async () => ({ token: { id: "tok_from_card" } }) as { token?: { id: string }; error?: { message: string } });
vi.mock("@stripe/stripe-js", () => ({ loadStripe: vi.fn(async () => ({})) }));
vi.mock("@stripe/react-stripe-js", () => ({
  Elements: ({ children }: { children: React.ReactNode }) => <>{children}</>,
  CardElement: () => <div data-testid="card-element" />,
  useStripe: () => ({ createToken }),
  useElements: () => ({ getElement: () => ({}) }),
}));

const order = {
  id: "o1",
  userId: "u1",
  status: "created" as const,
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
  ticket: { id: "t1", title: "Concert", price: 20, version: 0 },
  version: 0,
};

afterEach(() => {
  vi.unstubAllGlobals();
  createToken.mockClear();
});

describe("paying with Stripe Elements", () => {
  it("is offered instead of the test card when a publishable key is set, and sends the card's token", async () => {
    const fetchMock = fetchSequence({ status: 201, body: { id: "p1" } }, { status: 200, body: order });
    render(<OrderPanel order={order} serverNow={Date.now()} stripeKey="pk_test_123" />);
    expect(screen.getByTestId("card-element")).toBeInTheDocument();
    expect(screen.getByRole("group", { name: "Card details" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Pay with test card" })).not.toBeInTheDocument();

    await userEvent.setup().click(screen.getByRole("button", { name: "Pay $20.00" }));
    expect(await screen.findByText("Payment received. Confirming your order…")).toBeInTheDocument();
    expect(createToken).toHaveBeenCalledTimes(1);
    expect(fetchMock.mock.calls[0][0]).toBe("/api/payments");
    expect(sentBody(fetchMock)).toEqual({ token: "tok_from_card", orderId: "o1" });
  });

  it("shows Stripe's message when the card is refused, and sends nothing", async () => {
    createToken.mockResolvedValueOnce({ error: { message: "Your card number is incomplete." } });
    const fetchMock = fetchSequence({ status: 201, body: { id: "p1" } });
    render(<OrderPanel order={order} serverNow={Date.now()} stripeKey="pk_test_123" />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Pay $20.00" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Your card number is incomplete.");
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("shows a declined charge's message from the API (402)", async () => {
    fetchSequence({ status: 402, body: { errors: [{ message: "Your card was declined." }] } });
    render(<OrderPanel order={order} serverNow={Date.now()} stripeKey="pk_test_123" />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Pay $20.00" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Your card was declined.");
    expect(screen.getByRole("button", { name: "Pay $20.00" })).toBeEnabled();
  });
});
