"use client";

import { useEffect, useState } from "react";
import { formatTimeLeft, secondsLeft } from "@/lib/format";

// In the last minute of a hold the page warns, once, loudly enough for a
// screen reader to interrupt with it.
export const WARN_SECONDS = 60;

// Ticking more often than once a second keeps the display from skipping a
// second when a tick lands just before a second boundary.
const TICK_MS = 250;

type Props = {
  expiresAt: string;
  /** The server's clock when it rendered, so the first render matches the HTML. */
  serverNow: number;
  onExpire?: () => void;
};

/** Countdown shows the time left to pay, and "Order expired" when it is over. */
export function Countdown({ expiresAt, serverNow, onExpire }: Props) {
  const [now, setNow] = useState(serverNow);

  useEffect(() => {
    const tick = () => setNow(Date.now());
    const first = setTimeout(tick, 0);
    const timer = setInterval(tick, TICK_MS);
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }, []);

  const left = secondsLeft(expiresAt, now);
  useEffect(() => {
    if (left === 0) onExpire?.();
  }, [left, onExpire]);

  if (left === 0) {
    return (
      <p className="countdown countdown-expired" role="status">
        Order expired
      </p>
    );
  }
  return (
    <>
      <p className="countdown">
        Time left to pay: <strong className="countdown-value">{formatTimeLeft(left)}</strong>
      </p>
      {left <= WARN_SECONDS ? (
        <p className="countdown-warning" role="alert">
          Less than a minute left: pay now, or the ticket goes back on sale.
        </p>
      ) : null}
    </>
  );
}
