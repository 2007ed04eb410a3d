import { expect, test } from "@playwright/test";
import { formError, nav, PASSWORD, shot, signOut, signUp, uniqueEmail } from "./helpers";

test("sign up with a bad email shows the field error next to the field", async ({ page }, testInfo) => {
  await page.goto("/");
  await nav(page).getByRole("link", { name: "Sign up" }).click();
  await expect(page.getByRole("heading", { name: "Create an account" })).toBeVisible();
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();

  const email = page.getByLabel("Email");
  await expect(email).toHaveAccessibleDescription("Email must be valid");
  await expect(email).toHaveAttribute("aria-invalid", "true");
  await expect(email).toBeFocused();
  await expect(nav(page).getByRole("link", { name: "Sign in" })).toBeVisible(); // still signed out
  await shot(page, testInfo, "field-error");
});

test("sign in shows the API's field errors and a wrong password's refusal", async ({ page }, testInfo) => {
  await page.goto("/auth/signin");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByLabel("Email")).toHaveAccessibleDescription("Email must be valid");
  await expect(page.getByLabel("Password")).toHaveAccessibleDescription("You must supply a password");
  await shot(page, testInfo, "empty-form");

  await page.getByLabel("Email").fill(uniqueEmail("nobody"));
  await page.getByLabel("Password").fill("wrong-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(formError(page)).toHaveText("Invalid credentials");
  await expect(page.getByLabel("Email")).not.toHaveAttribute("aria-invalid");
  await shot(page, testInfo, "invalid-credentials");
});

test("a person signs up, signs out and signs in again", async ({ page }, testInfo) => {
  const email = uniqueEmail("returning");
  await signUp(page, email);
  await expect(page).toHaveURL("/");
  await shot(page, testInfo, "signed-up");
  await signOut(page);
  await expect(page).toHaveURL("/");
  await expect(page.getByTestId("current-user")).toHaveCount(0);

  await nav(page).getByRole("link", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Password").press("Enter");
  await expect(page.getByTestId("current-user")).toHaveText(email);
  await shot(page, testInfo, "signed-in");
});

test("a page that needs a session sends a visitor to sign in and back", async ({ page }) => {
  await page.goto("/orders");
  await expect(page).toHaveURL("/auth/signin?next=%2Forders");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { name: "Create an account" })).toBeVisible();
  const email = uniqueEmail("redirected");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL("/orders");
  await expect(page.getByRole("heading", { name: "My orders" })).toBeVisible();
  await expect(page.getByText("You have no orders yet.")).toBeVisible();
});

test("an unknown page shows the 404 page in the site's style", async ({ page }, testInfo) => {
  const res = await page.goto("/no/such/page");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "We can’t find that page" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Ticketing" })).toBeVisible();
  await shot(page, testInfo, "404");

  const ticket = await page.goto("/tickets/000000000000000000000000");
  expect(ticket?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "We can’t find that page" })).toBeVisible();
});
