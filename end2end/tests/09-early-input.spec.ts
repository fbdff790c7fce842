import { Page } from "@playwright/test";
import { test, expect, hydrated, newTenant, trust, seedTenant, createChannel, Tenant } from "./fixtures";

// What a person types or chooses right after a page appears, before its code has arrived and
// hydrated, takes effect when it has: the shell notes it and the page replays it
// (app/src/pages/ready.rs). The page's code is held back here so the gap is seconds long.

async function tenantWithChannels(): Promise<Tenant> {
  const tenant = await newTenant("Early");
  await trust(tenant, ["https://api.infobip.com"]);
  const { queue } = await seedTenant(tenant, { queue: true });
  for (const name of ["wa_early_one", "wa_early_two"]) {
    await createChannel(tenant, {
      provider: "infobip", name, skill_queue_id: queue, phone_number: "+4915112345678",
      username: "acme", password: "infobip-secret", base_url: "https://api.infobip.com/whatsapp",
      account_key: "acc-key-1", webhook_password: "hook-secret-1",
    });
  }
  return tenant;
}

/** Holds back the wasm files `which` matches by `ms`. */
async function delayWasm(page: Page, which: (url: string) => boolean, ms: number) {
  await page.route(/\/pkg\/.*\.wasm$/, async (route) => {
    if (which(route.request().url())) await new Promise((r) => setTimeout(r, ms));
    await route.continue();
  });
}

const isMainModule = (url: string) => /\/pkg\/switchboard\.[\w-]+\.wasm$/.test(url);

test("typing into the list's search while its page's code is still on its way filters the list", async ({ page }) => {
  const tenant = await tenantWithChannels();
  const signedIn = await page.context().request.post("/api/login", { form: { username: tenant.admin, password: tenant.password } });
  expect(signedIn.status()).toBe(200);
  // the main module comes at once, the page's own chunks 3 s late
  await delayWasm(page, (url) => !isMainModule(url), 3_000);
  await page.goto("/config/channels");
  await page.locator("body[data-main-hydrated]").waitFor({ state: "attached" });
  await expect(page.getByRole("rowheader", { name: "wa_early_one" })).toBeVisible();
  const search = page.getByLabel("Search by name");
  await search.fill("zz_nothing_matches");
  expect(await page.locator("body[data-hydrated]").count(), "typed before the page had hydrated").toBe(0);

  await hydrated(page);
  await expect(search).toHaveValue("zz_nothing_matches");
  await expect(page.getByText("No matching channels")).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "wa_early_one" })).toHaveCount(0);
  // and the page goes on working as usual
  await search.fill("two");
  await expect(page.getByRole("rowheader", { name: "wa_early_two" })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "wa_early_one" })).toHaveCount(0);
});

test("a choice and text made before any code has arrived are kept", async ({ page }) => {
  const tenant = await tenantWithChannels();
  const signedIn = await page.context().request.post("/api/login", { form: { username: tenant.admin, password: tenant.password } });
  expect(signedIn.status()).toBe(200);
  // nothing of the app's code for 2 s: the server-rendered page is all there is
  await delayWasm(page, () => true, 2_000);
  await page.goto("/config/channels", { waitUntil: "domcontentloaded" });
  await page.getByLabel("Business Solution Provider").selectOption("twilio");
  await page.getByLabel("Search by name").fill("wa_early");
  expect(await page.locator("body[data-main-hydrated]").count(), "chosen before the main module hydrated").toBe(0);

  await hydrated(page);
  await expect(page.getByLabel("Business Solution Provider")).toHaveValue("twilio");
  await expect(page.getByLabel("Search by name")).toHaveValue("wa_early");
  // the channels are infobip's: none is twilio's
  await expect(page.getByText("No matching channels")).toBeVisible();
  await page.getByLabel("Business Solution Provider").selectOption("infobip");
  await expect(page.getByRole("rowheader", { name: "wa_early_one" })).toBeVisible();
});
