import { test, expect, axe, hydrated, open, signIn, newTenant, trust, seedTenant, createChannel, expectRejectedCalls } from "./fixtures";
import { createHmac } from "crypto";

// The test makes its own tenant space and channels.

/** `YYYY-MM-DD` in UTC, `days` from today. */
function day(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

test("health follows deliveries and token expiry; the routing preview and the dashboard explain", async ({ page }) => {
  const TENANT = await newTenant("Health");
  await trust(TENANT, ["https://graph.facebook.com"]);
  const { queue } = await seedTenant(TENANT, { queue: true });
  const cloud = {
    provider: "cloud-api", skill_queue_id: queue, app_key: "1234567890", app_secret: "app_secret_123",
    phone_number: "15550001111", base_url: "https://graph.facebook.com/v19.0", access_token: "EAAB-token",
  };
  await createChannel(TENANT, { ...cloud, name: "wa_health_cloud", token_valid_until: "2030-01-31" });
  await createChannel(TENANT, {
    ...cloud, name: "wa_health_token", token_valid_until: day(3),
    non_working_notification: "We are closed for the night. We answer from 09:00.",
    workday: [{ start: "09:00", end: "18:00" }], non_workday: [{ start: "10:00", end: "14:00" }],
    keywords: "agent",
  });
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);

  // a delivery signed with another Meta app's secret is refused: Failing, with the reason
  await page.getByRole("link", { name: "Integration of wa_health_cloud" }).click();
  const url = await page.getByLabel("URL", { exact: true }).inputValue();
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [{ id: "1", changes: [{ field: "messages", value: {
      messaging_product: "whatsapp", metadata: { display_phone_number: "15550001111", phone_number_id: "1" },
      messages: [{ from: "4915112345678", id: "wamid.health1", timestamp: "1", type: "text", text: { body: "Hallo" } }],
    } }] }],
  });
  const sign = (secret: string) => "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
  const post = (secret: string) =>
    page.request.post(url, { headers: { "Content-Type": "application/json", "X-Hub-Signature-256": sign(secret) }, data: body });
  expect((await post("another_apps_secret")).status()).toBe(401);
  const row = page.getByRole("row", { name: /wa_health_cloud/ });
  // the refusal is recorded off the request path: look again until it is there
  await expect(async () => {
    await open(page, "/config/channels");
    await expect(row.locator("td.health-cell")).toContainText("Failing", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(row).toContainText("X-Hub-Signature-256 does not match the body signed with the APP Secret");
  await page.getByRole("link", { name: "Activity of wa_health_cloud" }).click();
  await expect(page.getByRole("region", { name: "Refused deliveries" })).toContainText("X-Hub-Signature-256 does not match");

  // the right secret: accepted, and the channel is OK again
  expect((await post("app_secret_123")).status()).toBe(200);
  await open(page, "/config/channels");
  await expect(row.locator("td.health-cell")).toContainText("OK");

  // the token that expires in 3 days needs attention, on the list and with its fix
  const tokenRow = page.getByRole("row", { name: /wa_health_token/ });
  await expect(tokenRow.locator("td.health-cell")).toContainText("Attention");
  await expect(tokenRow).toContainText(`The Access Token expires in 3 days (Token Validity Period ${day(3)})`);
  await page.getByLabel("Health", { exact: true }).selectOption("attention");
  await expect(page.getByText("1 channel · page 1 of 1")).toBeVisible();
  await expect(tokenRow).toBeVisible();
  await expect(row).toHaveCount(0);
  await axe(page);

  // Integration shows the reason with the action that fixes it, and previews the routing
  await page.getByRole("link", { name: "Integration of wa_health_token" }).click();
  const health = page.getByRole("region", { name: /Health/ });
  await expect(health).toContainText("Attention");
  await expect(health).toContainText("The Access Token expires in 3 days");
  await expect(health.getByRole("link", { name: "Edit the channel" })).toHaveAttribute("href", /\/edit$/);
  const preview = page.getByRole("region", { name: "Routing preview" });
  await expect(preview).toContainText("UTC");
  // 2026-11-29 is a Sunday: a non-workday, and 20:30 is outside its 10:00-14:00
  await preview.getByLabel("Date").fill("2026-11-29");
  await preview.getByLabel("Time").fill("20:30");
  await preview.getByLabel("Customer message").fill("I need an agent");
  await preview.getByRole("button", { name: "Preview" }).click();
  const result = preview.getByRole("status");
  await expect(result).toContainText("Outside work time");
  await expect(result).toContainText("Sunday is not a workday in Service Time.");
  await expect(result).toContainText("We are closed for the night. We answer from 09:00.");
  await expect(result).toContainText("The customer gets the Non-Working Time Notification");
  // a bad time is told next to its field, and what was typed stays
  expectRejectedCalls(page, 422);
  await preview.getByLabel("Time").fill("");
  await preview.getByLabel("Date").fill("");
  await preview.getByLabel("Customer message").fill("x".repeat(1001));
  await preview.getByRole("button", { name: "Preview" }).click();
  await expect(preview.getByText("The message can have at most 1,000 characters.")).toBeVisible();
  await expect(preview.getByLabel("Customer message")).toHaveValue("x".repeat(1001));
  await axe(page);

  // Edit shows the same health
  await open(page, "/config/channels");
  await page.getByRole("link", { name: "Edit wa_health_token" }).click();
  await expect(page.getByRole("region", { name: /Health/ })).toContainText("The Access Token expires in 3 days");

  // the dashboard: counts, the channel needing attention, the deliveries of the last 24 hours
  await page.getByRole("link", { name: "Overview" }).click();
  await expect(page).toHaveURL(/\/config$/);
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  const attention = page.getByRole("region", { name: "Channels needing attention" });
  await expect(attention.getByRole("row", { name: /wa_health_token/ })).toContainText("Attention");
  await expect(page.locator(".stat.attention .n")).toHaveText("1");
  await expect(page.locator(".stat.ok .n")).toHaveText("1");
  await expect(page.getByText("Deliveries refused (24 h)")).toBeVisible();
  await axe(page);

  // the tenant's time zone is checked on the server and kept
  await page.getByRole("link", { name: "Service Time" }).click();
  const zone = page.getByLabel("Tenant time zone");
  await expect(zone).toHaveValue("UTC");
  await zone.fill("Mars/Olympus");
  await page.getByRole("button", { name: "Save time zone" }).click();
  await expect(page.getByText("'Mars/Olympus' is not a time zone")).toBeVisible();
  await zone.fill("Europe/Berlin");
  await page.getByRole("button", { name: "Save time zone" }).click();
  await expect(page.getByText("Time zone saved.")).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Tenant time zone")).toHaveValue("Europe/Berlin");
  await axe(page);
});
