import { expect, test } from "@playwright/test";
import { listTicket, nav, listTicketQuickly, shot, signUp, signUpQuickly, ticketCard, uniqueEmail, uniqueTitle } from "./helpers";

test("a seller lists a ticket and it appears on the home page", async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail("seller"));
  const title = uniqueTitle("Jazz night");
  await nav(page).getByRole("link", { name: "Sell a ticket" }).click();

  // A bad price first: the API's message shows next to the field.
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Price (USD)").fill("-5");
  await page.getByRole("button", { name: "List ticket" }).click();
  await expect(page.getByLabel("Price (USD)")).toHaveAccessibleDescription(/Price must be greater than 0/);
  await shot(page, testInfo, "bad-price");

  await page.getByLabel("Price (USD)").fill("12.5");
  await page.getByLabel("Price (USD)").blur();
  await expect(page.getByLabel("Price (USD)")).toHaveValue("12.50");
  await page.getByRole("button", { name: "List ticket" }).click();
  await expect(page).toHaveURL("/");
  const card = ticketCard(page, title);
  await expect(card).toContainText("$12.50");
  await shot(page, testInfo, "listed");

  await card.getByRole("link", { name: title }).click();
  await expect(page).toHaveURL(/\/tickets\/[0-9a-f]{24}$/);
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.locator(".price-large")).toHaveText("$12.50");
  await expect(page.getByRole("link", { name: "Edit" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Purchase" })).toHaveCount(0);
});

test("the owner edits title and price; someone else has no Edit", async ({ page, browser }, testInfo) => {
  await signUp(page, uniqueEmail("owner"));
  const title = uniqueTitle("Opera");
  const id = await listTicket(page, title, "30");

  await page.goto(`/tickets/${id}`);
  await page.getByRole("link", { name: "Edit" }).click();
  await expect(page).toHaveURL(`/tickets/${id}/edit`);
  await expect(page.getByLabel("Price (USD)")).toHaveValue("30.00");
  const newTitle = `${title} (balcony)`;
  await page.getByLabel("Title").fill(newTitle);
  await page.getByLabel("Price (USD)").fill("45.75");
  await shot(page, testInfo, "editing");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(`/tickets/${id}`);
  await expect(page.getByRole("heading", { level: 1, name: newTitle })).toBeVisible();
  await expect(page.locator(".price-large")).toHaveText("$45.75");
  await page.goto("/");
  await expect(ticketCard(page, newTitle)).toContainText("$45.75");

  const other = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  try {
    await signUpQuickly(other, uniqueEmail("stranger"));
    const strangerPage = await other.newPage();
    await strangerPage.goto(`/tickets/${id}`);
    await expect(strangerPage.getByRole("button", { name: "Purchase" })).toBeVisible();
    await expect(strangerPage.getByRole("link", { name: "Edit" })).toHaveCount(0);
    await shot(strangerPage, testInfo, "stranger-view");
    await strangerPage.goto(`/tickets/${id}/edit`);
    await expect(strangerPage.getByText("Only the seller can edit this ticket.")).toBeVisible();
    await expect(strangerPage.getByRole("button", { name: "Save changes" })).toHaveCount(0);
  } finally {
    await other.close();
  }
});

test("a visitor sees the ticket and is asked to sign in to buy it", async ({ page, browser }, testInfo) => {
  const seller = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  let id: string;
  const title = uniqueTitle("Theatre");
  try {
    await signUpQuickly(seller, uniqueEmail("seller"));
    id = await listTicketQuickly(seller, title, 19.99);
  } finally {
    await seller.close();
  }
  await page.goto(`/tickets/${id}`);
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.locator(".price-large")).toHaveText("$19.99");
  await page.getByRole("link", { name: "Sign in to purchase" }).click();
  await expect(page).toHaveURL(`/auth/signin?next=${encodeURIComponent(`/tickets/${id}`)}`);
});

test("the pages fit a phone's screen", async ({ browser }, testInfo) => {
  const phone = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 360, height: 740 } });
  try {
    await signUpQuickly(phone, uniqueEmail("phone-user-with-a-rather-long-address"));
    const title = uniqueTitle("A very long ticket title for a festival that goes on and on");
    const id = await listTicketQuickly(phone, title, 1234.5);
    const page = await phone.newPage();
    const check = async (path: string, step: string) => {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
      await shot(page, testInfo, step);
    };
    await check("/", "home");
    await check(`/tickets/${id}`, "ticket");
    await check(`/tickets/${id}/edit`, "edit");
    await check("/orders", "orders");
    await page.goto("/auth/signout");
    await expect(nav(page).getByRole("link", { name: "Sign in" })).toBeVisible();
    await check("/auth/signin", "signin");
    await check("/auth/signup", "signup");
  } finally {
    await phone.close();
  }
});

test("each price and title rule shows its own message next to the field", async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail("seller"));
  await page.goto("/tickets/new");
  const title = page.getByLabel("Title");
  const price = page.getByLabel("Price (USD)");
  const cases = [
    { title: "Concert", price: "10.999", field: price, message: "Price must have at most 2 decimals" },
    { title: "Concert", price: "5,50", field: price, message: "Price must be a number" },
    { title: "Concert", price: "1000000000", field: price, message: "Price must be at most 1,000,000" },
    { title: "Concert", price: "0", field: price, message: "Price must be greater than 0" },
    { title: "x".repeat(300), price: "10", field: title, message: "Title must be at most 200 characters" },
    { title: "   ", price: "10", field: title, message: "Title is required" },
  ];
  for (const c of cases) {
    await title.fill(c.title);
    await price.fill(c.price);
    await price.blur();
    if (c.price === "10.999") await expect(price, "a price is never rounded on blur").toHaveValue("10.999");
    await page.getByRole("button", { name: "List ticket" }).click();
    await expect(c.field).toHaveAccessibleDescription(new RegExp(`${c.message}$`));
    await expect(c.field).toHaveAttribute("aria-invalid", "true");
  }
  await expect(title).toHaveAccessibleDescription(/At most 200 characters: 0 used\./);
  await shot(page, testInfo, "rules");
});
