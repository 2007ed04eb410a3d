import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OrderPanel } from "./OrderPanel";
import { fetchSequence, sentBody } from "./testing";

vi.mock("next/navigation", () => ({ useRouter: () => ({ refresh: vi.fn() }) }));

// Stripe's own iframe cannot load here; stand-ins play its part: the
// Payment Element is a box, and confirming always succeeds with the intent
// our API handed out.
type ConfirmResult = { paymentIntent?: { id: string; status: string }; error?: { message: string } };
const confirmPayment = vi.fn(async (): Promise<ConfirmResult> => ({ paymentIntent: { id: "pi_1", status: "succeeded" } }));
const loadStripe = vi.fn<(key: string) => Promise<object>>(async () => ({}));
vi.mock("@stripe/stripe-js/pure", () => ({ loadStripe: (key: string) => loadStripe(key) }));
vi.mock("@stripe/react-stripe-js", () => ({
  Elements: ({ children, options }: { children: React.ReactNode; options?: { clientSecret?: string } }) => (
    <div data-testid="elements" data-client-secret={options?.clientSecret}>
      {children}
    </div>
  ),
  PaymentElement: () => <div data-testid="payment-element" />,
  useStripe: () => ({ confirmPayment }),
  useElements: () => ({}),
}));

const order = {
  id: "o1",
  userId: "u1",
  status: "created" as const,
  expiresAt: new Date(Date.now() + 5 * 60_000).toISOString(),
  ticket: { id: "t1", title: "Concert", price: 20, version: 0 },
  version: 0,
};

const intent = { status: 201, body: { id: "pi_1", clientSecret: "pi_1_secret_x" } };

afterEach(() => {
  vi.unstubAllGlobals();
  confirmPayment.mockClear();
  loadStripe.mockClear();
  window.history.replaceState(null, "", "/");
});

describe("paying with Stripe's Payment Element", () => {
  it("is offered instead of the test card when a publishable key is set, confirms the intent and reads it back", async () => {
    const fetchMock = fetchSequence(
      intent,
      { status: 200, body: { id: "pi_1", status: "succeeded", paymentId: "p1" } },
      { status: 200, body: order },
    );
    render(<OrderPanel order={order} serverNow={Date.now()} stripeKey="pk_test_123" />);
    expect(await screen.findByTestId("payment-element")).toBeInTheDocument();
    expect(screen.getByTestId("elements")).toHaveAttribute("data-client-secret", "pi_1_secret_x");
    expect(screen.getByRole("group", { name: "Payment details" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Pay with test card" })).not.toBeInTheDocument();
    expect(loadStripe).toHaveBeenCalledWith("pk_test_123");
    expect(fetchMock.mock.calls[0][0]).toBe("/api/payments/intents");
    expect(sentBody(fetchMock)).toEqual({ orderId: "o1" });

    await userEvent.setup().click(screen.getByRole("button", { name: "Pay $20.00" }));
    expect(await screen.findByText("Payment received. Confirming your order…")).toBeInTheDocument();
    expect(confirmPayment).toHaveBeenCalledTimes(1);
    expect(confirmPayment).toHaveBeenCalledWith(
      expect.objectContaining({ redirect: "if_required", confirmParams: { return_url: "http://localhost:3000/orders/o1" } }),
    );
    expect(fetchMock.mock.calls[1][0]).toBe("/api/payments/intents/pi_1/confirm");
    expect(fetchMock.mock.calls[1][1]?.method).toBe("POST");
    expect(fetchMock.mock.calls.some(([url]) => url === "/api/payments")).toBe(false);
  });

  it("shows Stripe's message when the payment is refused, and reads nothing back", async () => {
    confirmPayment.mockResolvedValueOnce({ error: { message: "Your card was declined." } });
    const fetchMock = fetchSequence(intent);
    render(<OrderPanel order={order} serverNow={Date.now()} stripeKey="pk_test_123" />);
    await userEvent.setup().click(await screen.findByRole("button", { name: "Pay $20.00" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Your card was declined.");
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("button", { name: "Pay $20.00" })).toBeEnabled();
  });

  it("says so when the read-back finds the payment not completed", async () => {
    fetchSequence(intent, { status: 200, body: { id: "pi_1", status: "requires_payment_method" } });
    render(<OrderPanel order={order} serverNow={Date.now()} stripeKey="pk_test_123" />);
    await userEvent.setup().click(await screen.findByRole("button", { name: "Pay $20.00" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The payment was not completed. Please try again.");
    expect(screen.queryByText("Payment received. Confirming your order…")).not.toBeInTheDocument();
  });

  it("shows the API's refusal instead of the form", async () => {
    fetchSequence({ status: 400, body: { errors: [{ message: "Order has expired" }] } });
    render(<OrderPanel order={order} serverNow={Date.now()} stripeKey="pk_test_123" />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Order has expired");
    expect(screen.queryByTestId("payment-element")).not.toBeInTheDocument();
  });

  it("reads the intent back when Stripe sends the buyer back from a redirect-based method", async () => {
    window.history.replaceState(null, "", "/orders/o1?payment_intent=pi_9&payment_intent_client_secret=s&redirect_status=succeeded");
    const fetchMock = fetchSequence({ status: 200, body: { id: "pi_9", status: "succeeded", paymentId: "p1" } });
    render(<OrderPanel order={order} serverNow={Date.now()} stripeKey="pk_test_123" />);
    expect(await screen.findByText("Payment received. Confirming your order…")).toBeInTheDocument();
    expect(fetchMock.mock.calls[0][0]).toBe("/api/payments/intents/pi_9/confirm");
    expect(confirmPayment).not.toHaveBeenCalled();
  });
});

describe("without a publishable key", () => {
  it("pays with the test card through the token route and never loads Stripe.js", async () => {
    const fetchMock = fetchSequence({ status: 201, body: { id: "p1" } });
    render(<OrderPanel order={order} serverNow={Date.now()} />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Pay with test card" }));
    expect(await screen.findByText("Payment received. Confirming your order…")).toBeInTheDocument();
    expect(fetchMock.mock.calls[0][0]).toBe("/api/payments");
    expect(sentBody(fetchMock)).toEqual({ token: "tok_visa", orderId: "o1" });
    expect(loadStripe).not.toHaveBeenCalled();
  });
});
