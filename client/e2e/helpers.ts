import { expect, type Browser, type BrowserContext, type Page, type TestInfo } from "@playwright/test";

export const PASSWORD = "secret-pass";

/** How long the fleet holds a reservation (make test-client sets it short). */
export const HOLD_SECONDS = Number(process.env.EXPIRATION_WINDOW_SECONDS || "900");

/** An address no other test or run uses. */
export function uniqueEmail(role: string): string {
  return `${role}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** A ticket title no other test or run uses. */
export function uniqueTitle(what: string): string {
  return `${what} ${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * shot saves a full-page screenshot as test-results/screenshots/<test>-<step>.png,
 * a place a person can look through after a run.
 */
export async function shot(page: Page, testInfo: TestInfo, step: string): Promise<void> {
  const test = testInfo.title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  await page.screenshot({ path: `test-results/screenshots/${test}-${step}.png`, fullPage: true });
}

/** nav is the site's main navigation in the header. */
export function nav(page: Page) {
  return page.getByRole("navigation", { name: "Main" });
}

/** formError is the box with a form's errors that belong to no one field. */
export function formError(page: Page) {
  // Not just getByRole("alert"): Next's route announcer is an alert too.
  return page.locator('.alert[role="alert"]');
}

/** signUp goes through the sign-up form as a person would. */
export async function signUp(page: Page, email: string): Promise<void> {
  await page.goto("/auth/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByTestId("current-user")).toHaveText(email);
}

/** signUpQuickly signs a context up through the API, for a test's cast. */
export async function signUpQuickly(context: BrowserContext, email: string): Promise<void> {
  const res = await context.request.post("/api/users/signup", { data: { email, password: PASSWORD } });
  expect(res.status(), await res.text()).toBe(201);
}

export async function signOut(page: Page): Promise<void> {
  await nav(page).getByRole("link", { name: "Sign out" }).click();
  await expect(nav(page).getByRole("link", { name: "Sign in" })).toBeVisible();
}

/** listTicket lists a ticket through the form and returns its id. */
export async function listTicket(page: Page, title: string, price: string): Promise<string> {
  await nav(page).getByRole("link", { name: "Sell a ticket" }).click();
  await expect(page.getByRole("heading", { name: "Sell a ticket" })).toBeVisible();
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Price (USD)").fill(price);
  await page.getByRole("button", { name: "List ticket" }).click();
  await expect(page).toHaveURL("/");
  const card = page.locator("li.ticket-card", { hasText: title });
  await expect(card).toBeVisible();
  const id = await card.getAttribute("data-ticket-id");
  expect(id).toBeTruthy();
  return id!;
}

/** listTicketQuickly lists a ticket through the API, for a test's setup. */
export async function listTicketQuickly(context: BrowserContext, title: string, price: number): Promise<string> {
  const res = await context.request.post("/api/tickets", { data: { title, price } });
  expect(res.status(), await res.text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** ticketCard is the ticket's card on the home page. */
export function ticketCard(page: Page, title: string) {
  return page.locator("li.ticket-card", { hasText: title });
}

/**
 * reserveQuickly orders a ticket through the API. The orders service learns
 * of a new ticket through an event, so a ticket listed a moment ago may be a
 * 404 there for a short while.
 */
export async function reserveQuickly(context: BrowserContext, ticketId: string): Promise<string> {
  let orderId = "";
  await expect(async () => {
    const res = await context.request.post("/api/orders", { data: { ticketId } });
    expect(res.status(), await res.text()).toBe(201);
    orderId = ((await res.json()) as { id: string }).id;
  }).toPass({ timeout: 5_000, intervals: [100, 250, 500] });
  return orderId;
}

/** signedInContext is a browser context of a new person, signed up through the API. */
export async function signedInContext(browser: Browser, testInfo: TestInfo, role: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  await signUpQuickly(context, uniqueEmail(role));
  return context;
}

/** payQuickly pays an order with the test card through the API. */
export async function payQuickly(context: BrowserContext, orderId: string): Promise<void> {
  // payments learns of the order from order:created: 404 for a moment.
  await expect(async () => {
    const res = await context.request.post("/api/payments", { data: { token: "tok_visa", orderId } });
    expect(res.status(), await res.text()).toBe(201);
  }).toPass({ timeout: 10_000, intervals: [100, 250, 500] });
}

/** awaitTicketStatus waits until the tickets service says the ticket is in status. */
export async function awaitTicketStatus(context: BrowserContext, ticketId: string, status: string): Promise<void> {
  await expect(async () => {
    const res = await context.request.get(`/api/tickets/${ticketId}`);
    expect(((await res.json()) as { status?: string }).status).toBe(status);
  }).toPass({ timeout: 10_000, intervals: [100, 250, 500] });
}

/**
 * withSellerAndBuyer runs body with two people signed up through the API,
 * each in a browser context of their own, and closes both after.
 */
export async function withSellerAndBuyer(
  browser: Browser,
  testInfo: TestInfo,
  body: (cast: { seller: BrowserContext; buyer: BrowserContext }) => Promise<void>,
): Promise<void> {
  const seller = await signedInContext(browser, testInfo, "seller");
  const buyer = await signedInContext(browser, testInfo, "buyer");
  try {
    await body({ seller, buyer });
  } finally {
    await Promise.all([seller.close(), buyer.close()]);
  }
}
