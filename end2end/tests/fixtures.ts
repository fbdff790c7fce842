import { test as base, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

const allowed = new WeakMap<Page, Set<number>>();

/**
 * Declares that this test makes the server answer a call with these 4xx statuses on purpose
 * (a rejected form answers 422, a wrong password 401). Chromium logs every such answer as
 * "Failed to load resource"; only those statuses are then not counted as console errors.
 */
export function expectRejectedCalls(page: Page, ...statuses: number[]) {
  const set = allowed.get(page) ?? new Set<number>();
  statuses.filter((s) => s >= 400 && s < 500).forEach((s) => set.add(s));
  allowed.set(page, set);
}

/** Collects page errors and console errors of a page. */
export function watch(page: Page, errors: string[]) {
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const status = /the server responded with a status of (\d{3})/.exec(m.text());
    if (status && allowed.get(page)?.has(Number(status[1]))) return;
    errors.push(`console: ${m.text()} (${m.location().url})`);
  });
}

/** Every test fails if a page threw or logged a console error (hydration panics show up here). */
export const test = base.extend<{ errors: string[] }>({
  errors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      watch(page, errors);
      await use(errors);
      expect(errors, "page errors and console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export const ROOT = { username: "root", password: "root-password-1" };
export const TENANT = { name: "Acme Support", admin: "acme-admin", password: "acme-password-1" };
/** The tenant administrator's password after the system administrator reset it (01-console). */
export const TENANT_RESET_PASSWORD = "acme-password-2";

/** Waits until the page has hydrated, so forms run through the app rather than a plain post. */
export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
}

export async function open(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

/** No serious or critical accessibility violations on the page as it is now. */
export async function axe(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    `axe violations on ${page.url()}`,
  ).toEqual([]);
}

export async function signIn(page: Page, username: string, password: string) {
  await open(page, "/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
