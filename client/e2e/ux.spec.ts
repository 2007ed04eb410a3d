import { expect, test, type Locator, type Page } from "@playwright/test";
import {
  HOLD_SECONDS,
  listTicket,
  listTicketQuickly,
  nav,
  payQuickly,
  reserveQuickly,
  shot,
  signedInContext,
  signOut,
  signUp,
  ticketCard,
  uniqueEmail,
  uniqueTitle,
  withSellerAndBuyer,
} from "./helpers";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

/** notice is the message that says what the last action did. */
function notice(page: Page) {
  return page.getByTestId("notice");
}

test("after each action the page says what happened, once", async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail("seller"));
  await expect(notice(page)).toHaveText("Welcome! Your account is ready and you are signed in.");
  await expect(page).toHaveURL("/"); // the code leaves the address bar

  const title = uniqueTitle("Notice");
  const id = await listTicket(page, title, "20");
  await expect(notice(page)).toHaveText("Your ticket is listed and on sale.");
  await shot(page, testInfo, "listed");

  await page.goto(`/tickets/${id}/edit`);
  await page.getByLabel("Price (USD)").fill("22");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(notice(page)).toHaveText("Your changes are saved.");
  await expect(page).toHaveURL(`/tickets/${id}`);
  await page.reload();
  await expect(notice(page)).toHaveCount(0); // a reload does not repeat it

  await signOut(page);
  await expect(notice(page)).toHaveText("You are signed out.");
});

test("a buyer is told how long the hold lasts, warned near its end, and gets a receipt", async ({ browser }, testInfo) => {
  await withSellerAndBuyer(browser, testInfo, async ({ seller, buyer }) => {
    const title = uniqueTitle("Receipt");
    const id = await listTicketQuickly(seller, title, 42.5);
    const page = await buyer.newPage();
    await page.goto(`/tickets/${id}`);
    const purchase = page.getByRole("button", { name: "Purchase" });
    const held = HOLD_SECONDS === 1 ? "1 second" : HOLD_SECONDS < 60 ? `${HOLD_SECONDS} seconds` : undefined;
    if (held) await expect(purchase).toHaveText(`Purchase held for you ${held}`);
    await purchase.click();
    await expect(page).toHaveURL(/\/orders\/[0-9a-f]{24}$/);
    const orderId = page.url().split("/").pop()!;
    await expect(notice(page)).toHaveText("The ticket is yours while you pay.");
    if (HOLD_SECONDS <= 60) {
      // The whole of a short hold is its last minute.
      await expect(page.getByRole("alert").filter({ hasText: "Less than a minute left" })).toBeVisible();
    }
    await page.getByRole("button", { name: "Pay with test card" }).click();
    await expect(page.getByText("Your order is complete")).toBeVisible({ timeout: 20_000 });

    const receipt = page.getByRole("region", { name: "Receipt" });
    await expect(receipt).toBeVisible();
    const fact = (name: string) => receipt.locator("dt", { hasText: name }).locator("xpath=following-sibling::dd[1]");
    await expect(fact("Order number")).toHaveText(orderId);
    await expect(fact("Date")).toHaveText(/^\d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC$/);
    await expect(fact("Amount paid")).toHaveText("$42.50");
    await expect(fact("Payment reference")).toHaveText(/^(ch|pi)_\w+$/);
    await expect(receipt.getByRole("link", { name: title })).toHaveAttribute("href", `/tickets/${id}`);
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      await shot(page, testInfo, `receipt-${viewport.width}`);
    }

    // Read afresh, the page shows the same receipt.
    await page.reload();
    await expect(fact("Order number")).toHaveText(orderId);
    await expect(page).toHaveTitle(new RegExp(`^Order …${orderId.slice(-6)}: ${title} · Ticketing$`));
  });
});

test("My orders shows one row per ticket, with its date and its earlier attempts folded in", async ({ browser }, testInfo) => {
  await withSellerAndBuyer(browser, testInfo, async ({ seller, buyer }) => {
    const title = uniqueTitle("Third time lucky");
    const id = await listTicketQuickly(seller, title, 18);
    for (let i = 0; i < 2; i++) {
      const dropped = await reserveQuickly(buyer, id);
      expect((await buyer.request.delete(`/api/orders/${dropped}`)).status()).toBe(204);
    }
    const bought = await reserveQuickly(buyer, id);
    await payQuickly(buyer, bought);

    const page = await buyer.newPage();
    await expect(async () => {
      await page.goto("/orders");
      await expect(page.locator("li.order-row", { hasText: title }).locator("[data-status]")).toHaveAttribute("data-status", "complete", {
        timeout: 500,
      });
    }).toPass({ timeout: 10_000 });
    const rows = page.locator("li.order-row", { hasText: title });
    await expect(rows).toHaveCount(1);
    await expect(rows).toHaveAttribute("data-order-id", bought);
    await expect(rows.getByTestId("earlier-attempts")).toHaveText("2 earlier attempts ran out or were cancelled");
    await expect(rows.locator("time")).toHaveText(/^\d{1,2} \w{3} \d{4}$/);
    await shot(page, testInfo, "orders");
  });
});

test("on a phone the header is one row, with the links behind a Menu button", async ({ browser }, testInfo) => {
  const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: PHONE });
  try {
    const page = await context.newPage();
    const email = uniqueEmail("a-rather-long-name-for-a-phone");
    await page.setViewportSize(DESKTOP);
    await signUp(page, email);
    await expect(nav(page).getByRole("button", { name: "Menu" })).toBeHidden();
    await expect(nav(page).getByRole("link", { name: "My orders" })).toBeVisible();

    await page.setViewportSize(PHONE);
    const menu = nav(page).getByRole("button", { name: "Menu" });
    await expect(menu).toBeVisible();
    await expect(nav(page).getByRole("link", { name: "My orders" })).toBeHidden();
    const header = await box(page.locator(".site-header"));
    const brand = await box(page.getByRole("link", { name: "Ticketing" }));
    const button = await box(menu);
    expect(header.height, "one row: at most the 4rem row and its border").toBeLessThanOrEqual(66);
    expect(Math.abs(brand.y + brand.height / 2 - (button.y + button.height / 2)), "brand and Menu side by side").toBeLessThan(4);
    expect(button.x + button.width).toBeLessThanOrEqual(PHONE.width);
    await shot(page, testInfo, "closed");

    await menu.click();
    await expect(menu).toHaveAttribute("aria-expanded", "true");
    const user = page.getByTestId("current-user");
    await expect(user).toBeVisible();
    await expect(user).toHaveText(email);
    const shown = await box(user);
    expect(shown.x + shown.width, "the whole address fits the screen").toBeLessThanOrEqual(PHONE.width);
    expect(await user.evaluate((el) => el.scrollWidth <= el.clientWidth + 1), "the address is not cut off").toBe(true);
    await shot(page, testInfo, "open");

    await nav(page).getByRole("link", { name: "My orders" }).click();
    await expect(page).toHaveURL("/orders");
    await expect(nav(page).getByRole("link", { name: "My orders" })).toBeHidden(); // a new page closes it
  } finally {
    await context.close();
  }
});

async function box(locator: Locator) {
  const b = await locator.boundingBox();
  expect(b, "element is laid out").not.toBeNull();
  return b!;
}

type RGB = [number, number, number];

function parseColor(css: string): { rgb: RGB; alpha: number } {
  const m = css.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
  if (!m) throw new Error(`unreadable color ${css}`);
  return { rgb: [Number(m[1]), Number(m[2]), Number(m[3])], alpha: m[4] === undefined ? 1 : Number(m[4]) };
}

// WCAG 2.x relative luminance and contrast ratio.
function luminance([r, g, b]: RGB): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

function contrast(a: RGB, b: RGB): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** ringAgainst tabs to target and reads its focus ring and the background it sits on. */
async function ringAgainst(page: Page, target: Locator): Promise<{ ring: string; style: string; width: number; background: string }> {
  for (let i = 0; i < 30 && !(await target.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(target).toBeFocused();
  return target.evaluate((el) => {
    const style = getComputedStyle(el);
    // The ring is drawn outside the element, on its parent's background.
    let node: Element | null = el.parentElement;
    let background = "rgb(255, 255, 255)";
    while (node) {
      const bg = getComputedStyle(node).backgroundColor;
      if (bg && !/rgba\(.*,\s*0\)$/.test(bg) && bg !== "transparent") {
        background = bg;
        break;
      }
      node = node.parentElement;
    }
    return { ring: style.outlineColor, style: style.outlineStyle, width: parseFloat(style.outlineWidth), background };
  });
}

test("the focus ring stands out at least 3:1 from what is around it", async ({ page }) => {
  await page.goto("/auth/signup");
  const targets = [
    ["a header link", nav(page).getByRole("link", { name: "Sign in" })],
    ["a text field", page.getByLabel("Email")],
    ["a primary button", page.getByRole("button", { name: "Sign up" })],
  ] as const;
  for (const [what, target] of targets) {
    const { ring, style, width, background } = await ringAgainst(page, target);
    expect(style, `${what}: a visible ring`).not.toBe("none");
    expect(width, `${what}: ring width`).toBeGreaterThanOrEqual(2);
    const ratio = contrast(parseColor(ring).rgb, parseColor(background).rgb);
    console.log(`focus ring on ${what}: ${ring} on ${background}: ${ratio.toFixed(2)}:1`);
    expect(ratio, `${what}: ${ring} on ${background}`).toBeGreaterThanOrEqual(3);
  }
});

test("the home page walks to older tickets and back to newer ones", async ({ browser }, testInfo) => {
  const seller = await signedInContext(browser, testInfo, "seller");
  try {
    // More than a page (50) of tickets, all newer than anything else on sale.
    const batch = uniqueTitle("Paged");
    for (let i = 0; i < 51; i++) await listTicketQuickly(seller, `${batch} #${i}`, 5);
    const page = await seller.newPage();
    await page.goto("/");
    const firstPage = await page.locator("li.ticket-card").allTextContents();
    expect(firstPage).toHaveLength(50);
    await expect(page.getByRole("link", { name: "← Newer tickets" })).toHaveCount(0);

    await page.getByRole("link", { name: "Older tickets →" }).click();
    await expect(ticketCard(page, `${batch} #0`)).toBeVisible();
    await expect(ticketCard(page, `${batch} #50`)).toHaveCount(0);
    await shot(page, testInfo, "older");

    await page.getByRole("link", { name: "← Newer tickets" }).click();
    await expect(page).toHaveURL("/");
    expect(await page.locator("li.ticket-card").allTextContents()).toEqual(firstPage);
  } finally {
    await seller.close();
  }
});
