import { expect, test, type Page } from "@playwright/test";
import { awaitTicketStatus, HOLD_SECONDS, listTicketQuickly, payQuickly, reserveQuickly, signedInContext, uniqueTitle } from "./helpers";

// Every page in each of its states, at a desktop and a phone size, saved to
// test-results/pages/<state>-<width>.png for a person to look through after
// a run. Three of them, as small JPEGs in test-results/readme/, are the ones
// the README shows (copied to docs/screenshots by hand when the pages change).
const SIZES = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
];
const README = new Set(["home-1280", "order-complete-1280", "ticket-available-390"]);

async function capture(page: Page, state: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await expect(page.locator("main h1").first()).toBeVisible();
    await page.screenshot({ path: `test-results/pages/${state}-${size.width}.png`, fullPage: true });
    if (README.has(`${state}-${size.width}`)) {
      await page.screenshot({ path: `test-results/readme/${state}-${size.width}.jpg`, type: "jpeg", quality: 70 });
    }
  }
}

test("every page state, at 1280×900 and 390×844", async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const visitor = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  const seller = await signedInContext(browser, testInfo, "seller");
  const buyer = await signedInContext(browser, testInfo, "buyer");
  try {
    const onSale = await listTicketQuickly(seller, uniqueTitle("Symphony, row 5 seat 12"), 48);
    const held = await listTicketQuickly(seller, uniqueTitle("Stand-up comedy night"), 25);
    const sold = await listTicketQuickly(seller, uniqueTitle("Cup final, north stand"), 120);
    const soldOrder = await reserveQuickly(buyer, sold);
    await payQuickly(buyer, soldOrder);
    await awaitTicketStatus(visitor, sold, "sold");

    const v = await visitor.newPage();
    await v.goto("/");
    await capture(v, "home-visitor");
    await v.goto("/auth/signin");
    await capture(v, "signin");
    await v.goto("/auth/signup");
    await v.getByRole("button", { name: "Sign up" }).click();
    await expect(v.getByLabel("Email")).toHaveAccessibleDescription(/Email must be valid/);
    await capture(v, "signup-errors");
    await v.goto(`/tickets/${onSale}`);
    await capture(v, "ticket-visitor");
    await v.goto("/tickets/000000000000000000000000");
    await capture(v, "not-found");

    const s = await seller.newPage();
    await s.goto("/");
    await capture(s, "home");
    await s.goto("/tickets/new");
    await s.getByLabel("Title").fill("x".repeat(201));
    await s.getByLabel("Price (USD)").fill("10.999");
    await s.getByRole("button", { name: "List ticket" }).click();
    await expect(s.getByLabel("Price (USD)")).toHaveAccessibleDescription(/Price must have at most 2 decimals/);
    await capture(s, "sell-errors");
    await s.goto(`/tickets/${onSale}`);
    await capture(s, "ticket-owner");
    await s.goto(`/tickets/${onSale}/edit`);
    await capture(s, "edit");
    await s.goto(`/tickets/${sold}`);
    await capture(s, "ticket-sold-owner");
    await s.goto("/tickets/mine");
    await capture(s, "my-listings");

    const b = await buyer.newPage();
    await b.goto(`/tickets/${onSale}`);
    await capture(b, "ticket-available");
    await b.goto(`/orders/${soldOrder}`);
    await expect(b.getByRole("region", { name: "Receipt" })).toBeVisible();
    await capture(b, "order-complete");
    // A test fleet's hold is short: reserve just before looking at it.
    const heldOrder = await reserveQuickly(buyer, held);
    await b.goto(`/orders/${heldOrder}`);
    if (HOLD_SECONDS > 2) await capture(b, "order-awaiting-payment");
    await b.goto(`/tickets/${held}`);
    if (HOLD_SECONDS > 2) await capture(b, "ticket-reserved");
    await b.goto(`/orders/${heldOrder}`);
    await expect(b.getByText("Order expired")).toBeVisible({ timeout: (HOLD_SECONDS + 2) * 1000 });
    await capture(b, "order-expired");
    await b.goto("/orders");
    await capture(b, "my-orders");
  } finally {
    await Promise.all([visitor.close(), seller.close(), buyer.close()]);
  }
});
