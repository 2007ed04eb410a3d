import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { awaitTicketStatus, listTicketQuickly, payQuickly, reserveQuickly, shot, signedInContext, uniqueTitle } from "./helpers";

async function expectSold(page: Page, ticketId: string, testInfo: TestInfo, who: string, owner: boolean): Promise<void> {
  for (const viewport of [
    { width: 1280, height: 900 },
    { width: 390, height: 844 },
  ]) {
    await page.setViewportSize(viewport);
    await page.goto(`/tickets/${ticketId}`);
    await expect(page.locator('[data-status="sold"]')).toHaveText("Sold");
    await expect(page.locator('[data-status="reserved"]')).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Purchase" })).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Sign in to purchase" })).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Edit" })).toHaveCount(0);
    await expect(page.getByText(owner ? "You sold this ticket." : "This ticket has been sold.")).toBeVisible();
    await shot(page, testInfo, `${who}-${viewport.width}`);
  }
}

test("a sold ticket shows Sold and no Purchase, to its buyer, its owner and a visitor", async ({ browser }, testInfo) => {
  const seller = await signedInContext(browser, testInfo, "seller");
  const buyer = await signedInContext(browser, testInfo, "buyer");
  const visitor = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  try {
    const id = await listTicketQuickly(seller, uniqueTitle("Ballet"), 30);
    const orderId = await reserveQuickly(buyer, id);
    await payQuickly(buyer, orderId);
    // The tickets service hears of the payment through payment:created.
    await awaitTicketStatus(visitor, id, "sold");

    await expectSold(await buyer.newPage(), id, testInfo, "buyer", false);
    await expectSold(await seller.newPage(), id, testInfo, "owner", true);
    await expectSold(await visitor.newPage(), id, testInfo, "visitor", false);
  } finally {
    await Promise.all([seller.close(), buyer.close(), visitor.close()]);
  }
});

test("My listings shows a seller's tickets on sale, reserved and sold", async ({ browser }, testInfo) => {
  const seller = await signedInContext(browser, testInfo, "seller");
  const buyer = await signedInContext(browser, testInfo, "buyer");
  try {
    const onSale = uniqueTitle("On sale");
    const held = uniqueTitle("Held");
    const sold = uniqueTitle("Sold");
    await listTicketQuickly(seller, onSale, 10);
    const heldId = await listTicketQuickly(seller, held, 20);
    const soldId = await listTicketQuickly(seller, sold, 30);
    await reserveQuickly(buyer, heldId);
    await payQuickly(buyer, await reserveQuickly(buyer, soldId));
    await awaitTicketStatus(seller, soldId, "sold");

    const page = await seller.newPage();
    await page.goto("/");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My listings" }).click();
    await expect(page).toHaveURL("/tickets/mine");
    await expect(page.getByRole("heading", { level: 1, name: "My listings" })).toBeVisible();
    const row = (title: string) => page.locator("li.listing-row", { hasText: title });
    await expect(row(onSale).locator("[data-status]")).toHaveAttribute("data-status", "available");
    await expect(row(onSale)).toContainText("On sale");
    await expect(row(held).locator("[data-status]")).toHaveAttribute("data-status", "reserved");
    await expect(row(held)).toContainText(/Reserved, (\d+ min left|hold ending)/);
    await expect(row(sold).locator("[data-status]")).toHaveAttribute("data-status", "sold");
    await expect(row(sold)).toContainText(/Sold \d+ \w+ \d{4}/);
    const titles = await page.locator("li.listing-row .order-title").allTextContents();
    expect(titles).toEqual([sold, held, onSale]);
    for (const viewport of [
      { width: 1280, height: 900 },
      { width: 390, height: 844 },
    ]) {
      await page.setViewportSize(viewport);
      await shot(page, testInfo, `listings-${viewport.width}`);
    }
  } finally {
    await Promise.all([seller.close(), buyer.close()]);
  }
});

test("withdrawing a listing takes it off the home page, and a later order for it gets 404", async ({ browser }, testInfo) => {
  const seller = await signedInContext(browser, testInfo, "seller");
  const buyer = await signedInContext(browser, testInfo, "buyer");
  try {
    const title = uniqueTitle("Withdrawn");
    const id = await listTicketQuickly(seller, title, 15);
    // A hold, cancelled, makes sure the orders service knows the ticket, so
    // its later 404 is the withdrawal, not a ticket it has not heard of.
    const orderId = await reserveQuickly(buyer, id);
    expect((await buyer.request.delete(`/api/orders/${orderId}`)).status()).toBe(204);
    await awaitTicketStatus(seller, id, "available");
    const page = await seller.newPage();
    await page.goto("/");
    await expect(page.locator("li.ticket-card", { hasText: title })).toHaveCount(1);
    await page.goto("/tickets/mine");
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: `Withdraw ${title}` }).click();
    await expect(page.locator("li.listing-row", { hasText: title })).toHaveCount(0);
    await shot(page, testInfo, "withdrawn");

    await page.goto("/");
    await expect(page.locator("li.ticket-card", { hasText: title })).toHaveCount(0);
    const res = await page.goto(`/tickets/${id}`);
    expect(res?.status()).toBe(404);
    // The orders service hears of it through ticket:updated.
    await expect(async () => {
      const order = await buyer.request.post("/api/orders", { data: { ticketId: id } });
      expect(order.status(), await order.text()).toBe(404);
    }).toPass({ timeout: 10_000, intervals: [100, 250, 500] });
  } finally {
    await Promise.all([seller.close(), buyer.close()]);
  }
});
