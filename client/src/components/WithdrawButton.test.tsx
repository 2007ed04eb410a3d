import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WithdrawButton } from "./WithdrawButton";
import { fetchSequence } from "./testing";

const replace = vi.fn();
vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace }),
  usePathname: () => "/tickets/mine",
  useSearchParams: () => new URLSearchParams("before=abc"),
}));

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  replace.mockReset();
});

describe("WithdrawButton", () => {
  it("asks first, then withdraws the ticket and shows the same page again with a word on it", async () => {
    const fetchMock = fetchSequence({ status: 204 });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    const user = userEvent.setup();
    render(<WithdrawButton ticketId="t1" title="Concert" />);
    await user.click(screen.getByRole("button", { name: "Withdraw Concert" }));
    await vi.waitFor(() => expect(replace).toHaveBeenCalledWith("/tickets/mine?before=abc&notice=withdrawn"));
    expect(fetchMock.mock.calls[0][0]).toBe("/api/tickets/t1");
    expect(fetchMock.mock.calls[0][1]?.method).toBe("DELETE");
  });

  it("does nothing when the seller changes their mind", async () => {
    const fetchMock = fetchSequence({ status: 204 });
    vi.spyOn(window, "confirm").mockReturnValue(false);
    const user = userEvent.setup();
    render(<WithdrawButton ticketId="t1" title="Concert" />);
    await user.click(screen.getByRole("button", { name: "Withdraw Concert" }));
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("shows why the API refused", async () => {
    fetchSequence({ status: 400, body: { errors: [{ message: "Cannot withdraw a reserved ticket" }] } });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    const user = userEvent.setup();
    render(<WithdrawButton ticketId="t1" title="Concert" />);
    await user.click(screen.getByRole("button", { name: "Withdraw Concert" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot withdraw a reserved ticket");
    expect(replace).not.toHaveBeenCalled();
  });
});
