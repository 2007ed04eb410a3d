// next build leaves the static assets and public/ out of .next/standalone on
// purpose (a CDN may serve them); we serve them from the same server, so copy
// them in, as the Next.js docs for output: "standalone" describe.
import { cpSync, existsSync, rmSync } from "node:fs";

const standalone = ".next/standalone";
if (!existsSync(`${standalone}/server.js`)) {
  console.error(`${standalone}/server.js is missing: did next build run with output: "standalone"?`);
  process.exit(1);
}
rmSync(`${standalone}/.next/static`, { recursive: true, force: true });
cpSync(".next/static", `${standalone}/.next/static`, { recursive: true });
if (existsSync("public")) {
  rmSync(`${standalone}/public`, { recursive: true, force: true });
  cpSync("public", `${standalone}/public`, { recursive: true });
}
