/**
 * Where the server reaches the API. In a cluster, API_ROUTES names each API
 * path prefix with the Service behind it, as the Ingress routes them (the
 * manifests fill it in from the Ingress rules): "/api/users auth 3000
 * /api/tickets tickets 3000 ...". The server then asks each service over
 * cluster DNS and never goes out through the public entry point. Without
 * API_ROUTES (one machine), everything goes to API_INTERNAL_URL, the local
 * nginx, which routes by the same Ingress.
 */

export type ApiRoute = { prefix: string; base: URL };

/** parseApiRoutes reads "path service port" triples; it throws on a malformed list. */
export function parseApiRoutes(raw: string): ApiRoute[] {
  const words = raw.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || words.length % 3 !== 0) {
    throw new Error(`API_ROUTES must be "path service port" triples, got ${JSON.stringify(raw)}`);
  }
  const routes: ApiRoute[] = [];
  for (let i = 0; i < words.length; i += 3) {
    const [prefix, service, port] = words.slice(i, i + 3);
    if (!prefix.startsWith("/") || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(service) || !/^[0-9]{1,5}$/.test(port)) {
      throw new Error(`API_ROUTES entry "${prefix} ${service} ${port}" is not "path service port"`);
    }
    routes.push({ prefix, base: new URL(`http://${service}:${port}`) });
  }
  return routes;
}

/**
 * matchesPrefix follows the Ingress's pathType Prefix: the prefix matches
 * whole path elements, so /api/users matches /api/users and /api/users/x
 * but not /api/usersx.
 */
function matchesPrefix(prefix: string, pathname: string): boolean {
  const p = prefix.replace(/\/+$/, "");
  return p === "" || pathname === p || pathname.startsWith(p + "/");
}

/** routeFor is the route for path (query allowed): the longest matching prefix, as the Ingress picks. */
export function routeFor(routes: ApiRoute[], path: string): ApiRoute | undefined {
  const pathname = path.split("?")[0];
  let best: ApiRoute | undefined;
  for (const r of routes) {
    if (matchesPrefix(r.prefix, pathname) && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  return best;
}
