import { render, screen, within } from "@testing-library/react";
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
});
