import { test, expect, axe, hydrated, signIn, newTenant, trust, seedTenant, createChannel } from "./fixtures";

// The channel list at the widths people use: a laptop (1366 and 1280 px) shows every column a
// person acts on without scrolling sideways; a phone (390 px) keeps each channel's name,
// health and operations on screen. The test makes its own tenant space and channels, and
// leaves a screenshot of each width in test-results/.

test("the channel list fits a laptop and a phone", async ({ page }) => {
  const TENANT = await newTenant("Layout");
  await trust(TENANT, ["https://api.infobip.com", "https://graph.facebook.com"]);
  const { queue, ou } = await seedTenant(TENANT, { queue: true, ou: true });
  const infobip = {
    provider: "infobip", skill_queue_id: queue, ou_id: ou, phone_number: "8613900000000", username: "acme-api",
    password: "api-password", base_url: "https://api.infobip.com", account_key: "acc-key", webhook_password: "hook-pass",
  };
  await createChannel(TENANT, { ...infobip, name: "wa_customer_care_europe_north", keywords: "agent" });
  await createChannel(TENANT, { ...infobip, name: "wa_sales" });
  await createChannel(TENANT, {
    provider: "cloud-api", skill_queue_id: queue, name: "wa_cloud_api_support_line", app_key: "1234567890",
    app_secret: "app_secret_123", phone_number: "15550001111", base_url: "https://graph.facebook.com/v19.0",
    access_token: "EAAB-token", token_valid_until: "2030-01-31",
  });

  await page.setViewportSize({ width: 1366, height: 768 });
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);
  await expect(page.getByRole("row", { name: /wa_/ })).toHaveCount(3);

  for (const [width, height] of [[1366, 768], [1280, 800]]) {
    await page.setViewportSize({ width, height });
    // nothing to scroll sideways: not the page, not the table
    const overflow = await page.evaluate(() => {
      const wrap = document.querySelector("table.channels")!.closest(".table-wrap") as HTMLElement;
      return {
        table: wrap.scrollWidth - wrap.clientWidth,
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      };
    });
    expect(overflow, `at ${width} px`).toEqual({ table: 0, page: 0 });
    // the first row's operations and the sortable headers are inside the viewport
    const first = page.getByRole("row", { name: /wa_/ }).first();
    for (const target of [
      first.getByRole("link", { name: /^Edit / }),
      first.getByRole("button", { name: /^Delete / }),
      first.getByRole("checkbox"),
      page.getByRole("button", { name: /^Updated/ }),
      page.getByRole("button", { name: /^Health/ }),
    ]) {
      const box = (await target.boundingBox())!;
      expect(box, `at ${width} px`).not.toBeNull();
      expect(box.x, `at ${width} px`).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, `at ${width} px`).toBeLessThanOrEqual(width);
    }
    // a date stays on one line: its text makes one line box
    const lines = await first.locator("td.date").evaluate((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    expect(lines, `lines of the date at ${width} px`).toBe(1);
    await shot(page, `channel-list-${width}.png`);
  }
  await axe(page);

  await page.setViewportSize({ width: 390, height: 844 });
  const first = page.getByRole("row", { name: /wa_/ }).first();
  for (const target of [
    first.getByRole("rowheader"),
    first.locator("td.health-cell"),
    first.getByRole("link", { name: /^Edit / }),
    first.getByRole("button", { name: /^Delete / }),
  ]) {
    await target.scrollIntoViewIfNeeded();
    const box = (await target.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
  }
  await shot(page, "channel-list-390.png");
  // and the operation works from there
  await first.getByRole("link", { name: /^Edit / }).click();
  await expect(page).toHaveURL(/\/config\/channels\/\d+\/edit$/);
});

async function shot(page: import("@playwright/test").Page, name: string) {
  await page.screenshot({ path: test.info().outputPath(name), fullPage: true });
}
