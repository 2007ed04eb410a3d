import { render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { NOTICES } from "@/lib/notices";
import { Notice } from "./Notice";

let query = "";
vi.mock("next/navigation", () => ({
  usePathname: () => "/tickets/mine",
  useSearchParams: () => new URLSearchParams(query),
}));

afterEach(() => {
  window.history.replaceState(null, "", "/");
});

describe("Notice", () => {
  it("says what happened and drops the code from the address bar", () => {
    query = "before=abc&notice=withdrawn";
    window.history.replaceState(null, "", `/tickets/mine?${query}`);
    render(<Notice />);
    expect(screen.getByRole("status")).toHaveTextContent(NOTICES.withdrawn);
    expect(window.location.pathname + window.location.search).toBe("/tickets/mine?before=abc");
  });

  it.each([["notice=%3Cb%3Ehi%3C%2Fb%3E"], ["before=abc"]])("shows nothing for %s", (q) => {
    query = q;
    render(<Notice />);
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
  });
});
