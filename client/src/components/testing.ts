import { vi } from "vitest";

/** A fetch stand-in that answers each call with the next of responses. */
export function fetchSequence(...responses: Array<{ status: number; body?: unknown }>) {
  const queue = [...responses];
  const mock = vi.fn<(url: string, init?: RequestInit) => Promise<Response>>(async () => {
    const next = queue.length > 1 ? queue.shift()! : queue[0];
    return new Response(next.body === undefined ? null : JSON.stringify(next.body), { status: next.status });
  });
  vi.stubGlobal("fetch", mock);
  return mock;
}

/** The JSON body of the n-th fetch call. */
export function sentBody(mock: ReturnType<typeof fetchSequence>, n = 0): unknown {
  const init = mock.mock.calls[n][1];
  return JSON.parse(String(init?.body));
}
