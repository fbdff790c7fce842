import { test, expect, axe, hydrated, signIn, newTenant, trust, seedTenant, createChannel, expectRejectedCalls } from "./fixtures";
import { createHmac } from "crypto";

// Each test makes its own tenant space and channel.

const infobipBody = (id: string) =>
  JSON.stringify({ results: [{ messageId: id, from: "4915112345678", to: "4930", message: { type: "TEXT", text: `hello ${id}` } }] });

test("a webhook password changes with an overlap, and the page follows the provider's switch", async ({ page }) => {
  const TENANT = await newTenant("Rotate");
  await trust(TENANT, ["https://api.infobip.com"]);
  const { queue } = await seedTenant(TENANT, { queue: true });
  const id = await createChannel(TENANT, {
    provider: "infobip", name: "wa_rotate", skill_queue_id: queue, phone_number: "+4915112345678",
    username: "u", password: "p", base_url: "https://api.infobip.com", account_key: "k",
    webhook_password: "infobip-hook-1",
  });
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await page.goto(`/config/channels/${id}/integration`);
  await hydrated(page);
  const messageUrl = await page.getByLabel("url used to send message to agent", { exact: true }).inputValue();
  const deliver = (key: string, msg: string) =>
    page.request.post(messageUrl, { headers: { "Content-Type": "application/json", AccountKey: key }, data: infobipBody(msg) });
  const panel = page.getByRole("region", { name: "Webhook credentials" });

  // a refused change keeps what was typed, with the reason at its field
  expectRejectedCalls(page, 422);
  await panel.getByLabel("New value", { exact: true }).fill("infobip-hook-2");
  await panel.getByLabel("Overlap (hours)").fill("721");
  await panel.getByRole("button", { name: "Change credential" }).click();
  await expect(panel.getByText("Enter the overlap in whole hours, from 0 to 720 (30 days).")).toBeVisible();
  await expect(panel.getByLabel("New value", { exact: true })).toHaveValue("infobip-hook-2");

  // the change: the new password at once, the previous one for 24 hours
  await panel.getByLabel("Overlap (hours)").fill("24");
  await panel.getByRole("button", { name: "Change credential" }).click();
  await expect(panel.getByText("Changed: the new value is in use.")).toBeVisible();
  await expect(panel.getByText(/The previous Webhook Password is accepted until \d{4}-\d\d-\d\d/)).toBeVisible();
  await expect(panel.locator(".rotation-summary")).toContainText("has used neither the new nor the previous Webhook Password yet");
  await axe(page);

  // the provider still sends the previous one: accepted, and the page says so
  expect((await deliver("infobip-hook-1", "rot-old")).status()).toBe(200);
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(page.locator(".rotation-summary")).toContainText("The provider still uses the previous Webhook Password (last seen", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  // its portal is updated: the next delivery comes with the new one
  expect((await deliver("infobip-hook-2", "rot-new")).status()).toBe(200);
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(page.locator(".rotation-summary")).toContainText("The provider has switched (first seen", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await page.screenshot({ path: test.info().outputPath("integration-switched.png"), fullPage: true });

  // Activity shows which password each delivery came with
  await page.goto(`/config/channels/${id}/activity`);
  await hydrated(page);
  await expect(page.getByRole("row", { name: /hello rot-old/ })).toContainText("with the previous Webhook Password");
  await expect(page.getByRole("row", { name: /hello rot-new/ })).toContainText("with the new Webhook Password");
  await axe(page);

  // ended early: the previous one is refused from now on, and Activity says why
  await page.goto(`/config/channels/${id}/integration`);
  await hydrated(page);
  await panel.getByRole("button", { name: "End the overlap now" }).click();
  await expect(page.locator(".rotation-summary")).toContainText("The previous Webhook Password was retired on");
  expect((await deliver("infobip-hook-1", "rot-late")).status()).toBe(401);
  expect((await deliver("infobip-hook-2", "rot-ok")).status()).toBe(200);
  await page.goto(`/config/channels/${id}/activity`);
  await hydrated(page);
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(page.getByRole("region", { name: "Refused deliveries" })).toContainText("The previous Webhook Password, retired on", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  // Send a test delivery: this server's public address is plain http, which providers never
  // call, and the panel says so for each URL (the way through a proxy is in 15-test-delivery)
  await page.goto(`/config/channels/${id}/integration`);
  await hydrated(page);
  await page.getByRole("button", { name: "Send a test delivery" }).click();
  const delivered = page.getByRole("region", { name: "Send a test delivery" });
  await expect(delivered.locator(".test-result")).toHaveCount(2);
  await expect(delivered.locator(".test-result").first()).toContainText("Not received · url used to send message to agent");
  await expect(delivered.locator(".test-result").first()).toContainText("providers call only https:// addresses");

  // Generate: the new value is shown once, to copy into the portal, and works
  await page.goto(`/config/channels/${id}/integration`);
  await hydrated(page);
  await panel.getByLabel(/^Generate/).check();
  await panel.getByRole("button", { name: "Change credential" }).click();
  const generated = await panel.locator("code[data-secret=webhook]").textContent();
  expect(generated?.length ?? 0).toBeGreaterThanOrEqual(20);
  expect((await deliver(generated!, "rot-gen")).status()).toBe(200);
  expect((await deliver("infobip-hook-2", "rot-prev")).status()).toBe(200);
  await page.reload();
  await hydrated(page);
  await expect(page.locator("code[data-secret=webhook]")).toHaveCount(0);
  expect(await page.content()).not.toContain(generated!);
});

test("a twilio channel's Auth Token turns on X-Twilio-Signature", async ({ page }) => {
  const TENANT = await newTenant("Signed");
  await trust(TENANT, ["https://api.twilio.com"]);
  const { queue } = await seedTenant(TENANT, { queue: true });
  const id = await createChannel(TENANT, {
    provider: "twilio", name: "wa_signed", skill_queue_id: queue, phone_number: "+14155238886",
    api_key_sid: "SK" + "a1".repeat(16), api_key_secret: "twilio-secret", base_url: "https://api.twilio.com/2010-04-01",
    account_sid: "AC" + "0f".repeat(16), webhook_user: "aicc_hook", webhook_password: "S3cret!pass",
  });
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await page.goto(`/config/channels/${id}/integration`);
  await hydrated(page);
  await expect(page.getByText("X-Twilio-Signature is not checked")).toBeVisible();
  const messageUrl = await page.getByLabel("url used to send message to agent", { exact: true }).inputValue();

  // set on Edit: 32 hexadecimal characters, checked at the field
  expectRejectedCalls(page, 422);
  await page.goto(`/config/channels/${id}/edit`);
  await hydrated(page);
  // a new Webhook Password saved here stops the current one at once unless this is ticked
  await expect(page.getByLabel("Keep the current one working for 24 hours")).not.toBeChecked();
  const token = page.getByLabel("Auth Token");
  await token.fill("not-a-token");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("The Auth Token is 32 hexadecimal characters")).toBeVisible();
  const TOKEN = "0123456789abcdef0123456789abcdef";
  await token.fill(TOKEN);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/config\/channels(\?|$)/);
  await page.goto(`/config/channels/${id}/integration`);
  await hydrated(page);
  await expect(page.getByText("X-Twilio-Signature is checked on every delivery")).toBeVisible();
  await axe(page);

  // a delivery signed as Twilio signs it is accepted; an unsigned one is refused
  const params: [string, string][] = [["MessageSid", "SMsig1"], ["From", "whatsapp:+4915112345678"], ["To", "whatsapp:+14155238886"], ["Body", "Signed hello"]];
  const data = new URLSearchParams(params).toString();
  const signed = messageUrl + [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => k + v).join("");
  const signature = createHmac("sha1", TOKEN).update(signed).digest("base64");
  const headers = {
    "Content-Type": "application/x-www-form-urlencoded",
    Authorization: "Basic " + Buffer.from("aicc_hook:S3cret!pass").toString("base64"),
  };
  expect((await page.request.post(messageUrl, { headers: { ...headers, "X-Twilio-Signature": signature }, data })).status()).toBe(200);
  expect((await page.request.post(messageUrl, { headers, data: data.replace("SMsig1", "SMsig2") })).status()).toBe(401);
  await page.goto(`/config/channels/${id}/activity`);
  await hydrated(page);
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(page.getByRole("row", { name: /Signed hello/ })).toContainText("X-Twilio-Signature valid", { timeout: 1_000 });
    await expect(page.getByRole("region", { name: "Refused deliveries" })).toContainText("X-Twilio-Signature header missing", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
});
