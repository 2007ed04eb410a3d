import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hardNavigate } from "@/lib/navigate";
import { AuthForm } from "./AuthForm";
import { fetchSequence, sentBody } from "./testing";

vi.mock("@/lib/navigate", () => ({ hardNavigate: vi.fn() }));

afterEach(() => {
  vi.unstubAllGlobals();
  vi.mocked(hardNavigate).mockReset();
});

describe("AuthForm", () => {
  it("shows each field error from the API next to its field, and focuses the first", async () => {
    fetchSequence({
      status: 400,
      body: {
        errors: [
          { message: "Email must be valid", field: "email" },
          { message: "Password must be between 4 and 20 characters", field: "password" },
        ],
      },
    });
    const user = userEvent.setup();
    render(<AuthForm mode="signup" next="/" />);
    await user.type(screen.getByLabelText("Email"), "not-an-email");
    await user.click(screen.getByRole("button", { name: "Sign up" }));

    const email = await screen.findByLabelText("Email");
    expect(email).toBeInvalid();
    expect(email).toHaveAccessibleDescription("Email must be valid");
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription("4 to 20 characters. Password must be between 4 and 20 characters");
    expect(email).toHaveFocus();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(hardNavigate).not.toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Sign up" })).toBeEnabled();
  });

  it("shows a rule's refusal above the form", async () => {
    fetchSequence({ status: 400, body: { errors: [{ message: "Invalid credentials" }] } });
    const user = userEvent.setup();
    render(<AuthForm mode="signin" next="/" />);
    await user.type(screen.getByLabelText("Email"), "a@example.com");
    await user.type(screen.getByLabelText("Password"), "wrong");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Invalid credentials");
  });

  it("signs in and loads the page it was asked to return to", async () => {
    const fetchMock = fetchSequence({ status: 200, body: { id: "u1", email: "a@example.com" } });
    const user = userEvent.setup();
    render(<AuthForm mode="signin" next="/orders/o1" />);
    await user.type(screen.getByLabelText("Email"), "a@example.com");
    await user.type(screen.getByLabelText("Password"), "secret{Enter}");
    await vi.waitFor(() => expect(hardNavigate).toHaveBeenCalledWith("/orders/o1?notice=signed-in"));
    expect(fetchMock.mock.calls[0][0]).toBe("/api/users/signin");
    expect(sentBody(fetchMock)).toEqual({ email: "a@example.com", password: "secret" });
    expect(screen.getByRole("button", { name: "Signing in…" })).toBeDisabled();
  });

  it("signs up and says the account is ready", async () => {
    fetchSequence({ status: 201, body: { id: "u1", email: "a@example.com" } });
    const user = userEvent.setup();
    render(<AuthForm mode="signup" next="/" />);
    await user.type(screen.getByLabelText("Email"), "a@example.com");
    await user.type(screen.getByLabelText("Password"), "secret{Enter}");
    await vi.waitFor(() => expect(hardNavigate).toHaveBeenCalledWith("/?notice=signed-up"));
  });

  it("keeps `next` on the link to the other form", () => {
    render(<AuthForm mode="signin" next="/orders" />);
    expect(screen.getByRole("link", { name: "Create an account" })).toHaveAttribute("href", "/auth/signup?next=%2Forders");
  });
});
