// The process answers: what a cluster's liveness and readiness probes ask.
// It does not call the API, so a backend outage never restarts the client.
export function GET() {
  return new Response("ok\n", { headers: { "content-type": "text/plain", "cache-control": "no-store" } });
}
