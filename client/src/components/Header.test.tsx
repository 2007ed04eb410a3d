import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { Header } from "./Header";

vi.mock("next/navigation", () => ({ usePathname: () => "/orders" }));

function navLinks() {
  return within(screen.getByRole("navigation", { name: "Main" }))
    .getAllByRole("link")
    .map((a) => [a.textContent, a.getAttribute("href")]);
}

describe("Header", () => {
  it("offers signing in or up to a visitor", () => {
    render(<Header currentUser={null} />);
    expect(navLinks()).toEqual([
      ["Sign in", "/auth/signin"],
      ["Sign up", "/auth/signup"],
    ]);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Menu" })).not.toBeInTheDocument(); // two links fit a phone
  });

  it("shows who is signed in and their links, marking the current page", () => {
    render(<Header currentUser={{ id: "u1", email: "ann@example.com" }} />);
    expect(navLinks()).toEqual([
      ["Sell a ticket", "/tickets/new"],
      ["My listings", "/tickets/mine"],
      ["My orders", "/orders"],
      ["Sign out", "/auth/signout"],
    ]);
    expect(screen.getByTestId("current-user")).toHaveTextContent("ann@example.com");
    expect(screen.getByRole("link", { name: "My orders" })).toHaveAttribute("aria-current", "page");
    expect(screen.getByRole("link", { name: "Sell a ticket" })).not.toHaveAttribute("aria-current");
  });

  it("says so when it cannot tell whether the visitor is signed in", () => {
    render(<Header currentUser={null} authUnavailable />);
    expect(screen.getByRole("alert")).toHaveTextContent("We can’t check whether you are signed in right now");
  });

  it("folds the links behind a Menu button that opens and closes them", async () => {
    const user = userEvent.setup();
    render(<Header currentUser={{ id: "u1", email: "ann@example.com" }} />);
    const nav = screen.getByRole("navigation", { name: "Main" });
    const menu = within(nav).getByRole("button", { name: "Menu" });
    expect(menu).toHaveAttribute("aria-expanded", "false");
    expect(menu).toHaveAttribute("aria-controls", "main-nav-list");
    expect(nav).toHaveAttribute("data-open", "false");
    await user.click(menu);
    expect(menu).toHaveAttribute("aria-expanded", "true");
    expect(nav).toHaveAttribute("data-open", "true");
    await user.keyboard("{Escape}");
    expect(menu).toHaveAttribute("aria-expanded", "false");
  });
});
