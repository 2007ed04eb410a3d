import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // A self-contained server (server.js + the node_modules it needs) that the
  // Docker image and infra/local run with plain `node`.
  output: "standalone",
  // The repository root holds no JavaScript; tracing from here keeps the
  // standalone tree flat (server.js at its top).
  outputFileTracingRoot: __dirname,
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
