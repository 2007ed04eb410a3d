// Adds up the client's checks into one line, "client: N passed, N failed",
// the way `make test` reports every part: lint and the type check count as
// one test each, then every unit test (Vitest's JSON report) and every
// browser test (Playwright's JSON report). A report that is missing counts as
// one failure, since its runner did not finish.
//
// usage: node scripts/test-summary.mjs RESULTS_DIR [SUMMARY_FILE]
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [dir, summaryFile] = process.argv.slice(2);
if (!dir) {
  console.error("usage: test-summary.mjs RESULTS_DIR [SUMMARY_FILE]");
  process.exit(2);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const notes = [];

function readJSON(name) {
  const path = join(dir, name);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

// steps: one "name: ok|FAIL" line per check that is not a test runner.
const steps = existsSync(join(dir, "steps")) ? readFileSync(join(dir, "steps"), "utf8").trim().split("\n").filter(Boolean) : [];
for (const line of steps) {
  const [name, result] = line.split(": ");
  if (result === "ok") passed++;
  else {
    failed++;
    notes.push(`${name} failed`);
  }
}

const unit = readJSON("unit.json");
if (unit) {
  passed += unit.numPassedTests ?? 0;
  failed += unit.numFailedTests ?? 0;
  skipped += (unit.numPendingTests ?? 0) + (unit.numTodoTests ?? 0);
  // A test file that fails to load has no failed test of its own.
  if ((unit.numFailedTestSuites ?? 0) > 0 && (unit.numFailedTests ?? 0) === 0) {
    failed++;
    notes.push("a unit test file failed to run");
  }
} else {
  failed++;
  notes.push("the unit tests left no report");
}

const browser = readJSON("browser.json");
if (browser) {
  const s = browser.stats ?? {};
  passed += (s.expected ?? 0) + (s.flaky ?? 0);
  failed += s.unexpected ?? 0;
  skipped += s.skipped ?? 0;
  if ((browser.errors ?? []).length > 0 && (s.unexpected ?? 0) === 0) {
    failed++;
    notes.push("the browser tests failed to run");
  }
} else if (existsSync(join(dir, "browser.skipped"))) {
  notes.push(readFileSync(join(dir, "browser.skipped"), "utf8").trim());
  failed++;
} else {
  failed++;
  notes.push("the browser tests left no report");
}

for (const n of notes) console.log(`client: ${n}`);
let line = `client: ${passed} passed, ${failed} failed`;
if (skipped > 0) line += `, ${skipped} skipped`;
console.log(line);
if (summaryFile) writeFileSync(summaryFile, line + "\n");
process.exit(failed > 0 ? 1 : 0);
