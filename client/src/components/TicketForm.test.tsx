import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TicketForm } from "./TicketForm";
import { fetchSequence, sentBody } from "./testing";

const push = vi.fn();
vi.mock("next/navigation", () => ({ useRouter: () => ({ push }) }));

afterEach(() => {
  vi.unstubAllGlobals();
  push.mockReset();
});

describe("TicketForm", () => {
  it("tidies the price to two decimals and lists the ticket", async () => {
    const fetchMock = fetchSequence({ status: 201, body: { id: "t1", title: "Concert", price: 20, userId: "u", version: 0 } });
    const user = userEvent.setup();
    render(<TicketForm mode="create" />);
    await user.type(screen.getByLabelText("Title"), "Concert");
    await user.type(screen.getByLabelText("Price (USD)"), "20");
    await user.tab();
    expect(screen.getByLabelText("Price (USD)")).toHaveValue("20.00");
    await user.click(screen.getByRole("button", { name: "List ticket" }));
    await vi.waitFor(() => expect(push).toHaveBeenCalledWith("/?notice=listed"));
    expect(fetchMock.mock.calls[0][0]).toBe("/api/tickets");
    expect(fetchMock.mock.calls[0][1]?.method).toBe("POST");
    expect(sentBody(fetchMock)).toEqual({ title: "Concert", price: 20 });
  });

  it("shows the API's field errors", async () => {
    fetchSequence({
      status: 400,
      body: {
        errors: [
          { message: "Title is required", field: "title" },
          { message: "Price must be greater than 0", field: "price" },
        ],
      },
    });
    const user = userEvent.setup();
    render(<TicketForm mode="create" />);
    await user.type(screen.getByLabelText("Price (USD)"), "-1");
    await user.click(screen.getByRole("button", { name: "List ticket" }));
    expect(await screen.findByText("Title is required")).toBeInTheDocument();
    expect(screen.getByLabelText("Price (USD)")).toHaveAccessibleDescription(/Price must be greater than 0$/);
    expect(push).not.toHaveBeenCalled();
  });

  it("never rounds a price and says so, and counts the title against its limit", async () => {
    const fetchMock = fetchSequence({ status: 400, body: { errors: [{ message: "Price must have at most 2 decimals", field: "price" }] } });
    const user = userEvent.setup();
    render(<TicketForm mode="create" />);
    expect(screen.getByLabelText("Price (USD)")).toHaveAccessibleDescription(/never rounded/);
    await user.type(screen.getByLabelText("Title"), "  Opera  ");
    expect(screen.getByLabelText("Title")).toHaveAccessibleDescription(/At most 200 characters: 5 used\./);
    await user.type(screen.getByLabelText("Price (USD)"), "12.345");
    await user.tab();
    expect(screen.getByLabelText("Price (USD)")).toHaveValue("12.345");
    await user.keyboard("{Enter}"); // the tab left focus on "List ticket"
    await vi.waitFor(() => expect(screen.getByLabelText("Price (USD)")).toHaveAccessibleDescription(/Price must have at most 2 decimals$/));
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(sentBody(fetchMock)).toEqual({ title: "  Opera  ", price: 12.345 });
  });

  it("edits a ticket with PUT and opens it", async () => {
    const ticket = { id: "t9", title: "Old", price: 5, userId: "u", version: 1 };
    const fetchMock = fetchSequence({ status: 200, body: { ...ticket, title: "New", price: 7.5, version: 2 } });
    const user = userEvent.setup();
    render(<TicketForm mode="edit" ticket={ticket} />);
    expect(screen.getByLabelText("Price (USD)")).toHaveValue("5.00");
    await user.clear(screen.getByLabelText("Title"));
    await user.type(screen.getByLabelText("Title"), "New");
    await user.clear(screen.getByLabelText("Price (USD)"));
    await user.type(screen.getByLabelText("Price (USD)"), "7.5");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await vi.waitFor(() => expect(push).toHaveBeenCalledWith("/tickets/t9?notice=saved"));
    expect(fetchMock.mock.calls[0][0]).toBe("/api/tickets/t9");
    expect(fetchMock.mock.calls[0][1]?.method).toBe("PUT");
    expect(sentBody(fetchMock)).toEqual({ title: "New", price: 7.5 });
  });

  it("shows why a reserved ticket could not be saved", async () => {
    fetchSequence({ status: 400, body: { errors: [{ message: "Cannot edit a reserved ticket" }] } });
    const user = userEvent.setup();
    render(<TicketForm mode="edit" ticket={{ id: "t9", title: "Old", price: 5, userId: "u", version: 1 }} />);
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot edit a reserved ticket");
  });
});
