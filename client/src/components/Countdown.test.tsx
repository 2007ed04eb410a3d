import { act, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Countdown } from "./Countdown";

const start = Date.parse("2026-03-01T12:00:00.000Z");

describe("Countdown", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(start);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("first shows the server's time left, then counts down to 'Order expired'", () => {
    const onExpire = vi.fn();
    const expiresAt = new Date(start + 3000).toISOString();
    // The server rendered one second earlier than the browser hydrates.
    render(<Countdown expiresAt={expiresAt} serverNow={start - 1000} onExpire={onExpire} />);
    expect(screen.getByText(/Time left to pay/)).toHaveTextContent("Time left to pay: 0:04");

    act(() => vi.advanceTimersByTime(10));
    expect(screen.getByText(/Time left to pay/)).toHaveTextContent("0:03");

    act(() => vi.advanceTimersByTime(1000));
    expect(screen.getByText(/Time left to pay/)).toHaveTextContent("0:02");
    expect(onExpire).not.toHaveBeenCalled();

    act(() => vi.advanceTimersByTime(2000));
    expect(screen.getByRole("status")).toHaveTextContent("Order expired");
    expect(screen.queryByText(/Time left to pay/)).not.toBeInTheDocument();
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it("shows 'Order expired' at once for a hold that is already over", () => {
    const onExpire = vi.fn();
    render(<Countdown expiresAt={new Date(start - 1).toISOString()} serverNow={start} onExpire={onExpire} />);
    expect(screen.getByRole("status")).toHaveTextContent("Order expired");
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it("shows minutes and seconds for a long hold", () => {
    render(<Countdown expiresAt={new Date(start + 15 * 60_000).toISOString()} serverNow={start} />);
    expect(screen.getByText(/Time left to pay/)).toHaveTextContent("15:00");
  });

  it("warns in the last minute, and not before", () => {
    render(<Countdown expiresAt={new Date(start + 61_000).toISOString()} serverNow={start} />);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.getByRole("alert")).toHaveTextContent("Less than a minute left: pay now, or the ticket goes back on sale.");
    expect(screen.getByText(/Time left to pay/)).toHaveTextContent("1:00");
  });
});
