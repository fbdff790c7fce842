import { test, expect, axe, hydrated, signIn, newTenant, trust, seedTenant, createChannel } from "./fixtures";
import { createHmac } from "crypto";

// The test makes its own tenant space and channels.

test("providers call the integration URLs and the activity page shows what arrived", async ({ page }) => {
  const TENANT = await newTenant("Hooks");
  await trust(TENANT, ["https://api.twilio.com", "https://graph.facebook.com"]);
  const { queue } = await seedTenant(TENANT, { queue: true });
  await createChannel(TENANT, {
    provider: "cloud-api", name: "wa_e2e_cloud", skill_queue_id: queue, app_key: "1234567890",
    app_secret: "app_secret_123", phone_number: "15550001111", base_url: "https://graph.facebook.com/v19.0",
    access_token: "EAAB-token", token_valid_until: "2030-01-31",
  });
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);

  // a twilio channel, created as the browser does
  const queues = await (await page.request.post("/api/list_skill_queues")).json();
  const created = await page.request.post("/api/create_channel", {
    data: {
      draft: {
        provider: "twilio", name: "wa_hook_twilio", skill_queue_id: String(queues[0].id),
        workday: [{ start: "09:00", end: "18:00" }], non_workday: [{ start: "09:00", end: "18:00" }],
        phone_number: "+14155238886", api_key_sid: "SK" + "a1".repeat(16), api_key_secret: "twilio-secret",
        base_url: "https://api.twilio.com/2010-04-01", account_sid: "AC" + "0f".repeat(16),
        webhook_user: "aicc_hook", webhook_password: "S3cret!pass",
      },
    },
  });
  expect(created.status()).toBe(200);
  await page.reload();
  await hydrated(page);

  // twilio: the URLs from Channel Integration, HTTP Basic with the webhook user and password
  await page.getByRole("link", { name: "Integration of wa_hook_twilio" }).click();
  const messageUrl = await page.getByLabel("url used to send message to agent", { exact: true }).inputValue();
  const reportUrl = await page.getByLabel("url used to send report to agent", { exact: true }).inputValue();
  const basic = "Basic " + Buffer.from("aicc_hook:S3cret!pass").toString("base64");
  const form = { "Content-Type": "application/x-www-form-urlencoded", Authorization: basic };
  expect((await page.request.post(messageUrl, { headers: form, data: "MessageSid=SMe2e1&From=whatsapp%3A%2B4915112345678&To=whatsapp%3A%2B14155238886&Body=Hello+from+Twilio&NumMedia=0&ProfileName=Ann" })).status()).toBe(200);
  expect((await page.request.post(reportUrl, { headers: form, data: "MessageSid=SMe2e1&MessageStatus=delivered" })).status()).toBe(200);
  expect((await page.request.post(messageUrl, { headers: { ...form, Authorization: "Basic d3Jvbmc6d3Jvbmc=" }, data: "MessageSid=SMx&Body=x" })).status()).toBe(401);

  // cloud-api: the verification handshake, then a signed delivery
  await page.getByRole("link", { name: "Back to the channel list" }).click();
  await page.getByRole("link", { name: "Integration of wa_e2e_cloud" }).click();
  const url = await page.getByLabel("URL", { exact: true }).inputValue();
  const code = await page.getByLabel("Verification Code", { exact: true }).inputValue();
  const verify = await page.request.get(`${url}?hub.mode=subscribe&hub.verify_token=${code}&hub.challenge=4242`);
  expect(verify.status()).toBe(200);
  expect(await verify.text()).toBe("4242");
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [{ id: "1", changes: [{ field: "messages", value: {
      messaging_product: "whatsapp", metadata: { display_phone_number: "15550001111", phone_number_id: "1" },
      messages: [{ from: "4915112345678", id: "wamid.e2e1", timestamp: "1", type: "text", text: { body: "Hallo from Meta" } }],
      statuses: [{ id: "wamid.e2e0", status: "read", timestamp: "1", recipient_id: "4915112345678" }],
    } }] }],
  });
  const signature = "sha256=" + createHmac("sha256", "app_secret_123").update(body).digest("hex");
  expect((await page.request.post(url, { headers: { "Content-Type": "application/json", "X-Hub-Signature-256": signature }, data: body })).status()).toBe(200);
  // a delivery signed with another Meta app's secret is refused, and the reason kept
  const otherApp = "sha256=" + createHmac("sha256", "another_apps_secret").update(body).digest("hex");
  expect((await page.request.post(url, { headers: { "Content-Type": "application/json", "X-Hub-Signature-256": otherApp }, data: body })).status()).toBe(401);

  // the activity pages show both
  await page.getByRole("link", { name: "Back to the channel list" }).click();
  await expect(page.getByRole("row", { name: /wa_hook_twilio/ })).toContainText("UTC");
  await page.getByRole("link", { name: "Activity of wa_hook_twilio" }).click();
  await expect(page.getByRole("heading", { name: "Channel Activity" })).toBeVisible();
  await expect(page.getByRole("row", { name: /Hello from Twilio/ })).toContainText("Message");
  await expect(page.getByRole("row", { name: /delivered/ })).toContainText("Report");
  const twilioRefusals = page.getByRole("region", { name: "Refused deliveries" });
  await expect(twilioRefusals).toContainText("Basic user is not the Webhook User");
  await expect(twilioRefusals).toContainText("Use the channel's Webhook User");
  await axe(page);
  await page.getByRole("link", { name: "Back to the channel list" }).click();
  await page.getByRole("link", { name: "Activity of wa_e2e_cloud" }).click();
  await expect(page.getByRole("row", { name: /Hallo from Meta/ })).toContainText("Message");
  await expect(page.getByRole("row", { name: /wamid\.e2e0/ })).toContainText("read");
  await expect(page.getByText("Last report received")).toBeVisible();
  const refusals = page.getByRole("region", { name: "Refused deliveries" });
  await expect(refusals).toContainText("HTTP 401");
  await expect(refusals).toContainText("X-Hub-Signature-256 does not match the body signed with the APP Secret \u2014 is the APP Secret of the same Meta app?");
  await expect(refusals).toContainText("from 127.0.0.1 · application/json");
  // per URL: the signed delivery was accepted before the refused one
  const webhookRow = page.getByRole("row", { name: /URL: messages and statuses/ });
  await expect(webhookRow.locator("td.refused")).toHaveCount(1);
  await expect(page.getByRole("row", { name: /URL: verification/ }).locator("td").first()).toContainText("UTC");
  await axe(page);
});
