import { test, expect, axe, hydrated, open, signIn, newTenant, apiAs, unique, seedTenant, expectRejectedCalls, startFakeProvider, FakeProvider, ROOT, Tenant } from "./fixtures";
import { request } from "@playwright/test";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// A fake provider over real HTTPS on 127.0.0.1 (the server's `fake_provider` example, its CA
// made when it starts), reached through the channel's own trust: Test connection, Send test
// message, and the delivery reports it posts back to the channel's webhook.

let fake: FakeProvider;
let stopFake: (() => void) | undefined;

test.beforeAll(async () => {
  const started = await startFakeProvider();
  fake = started.fake;
  stopFake = started.stop;
});

test.afterAll(() => {
  stopFake?.();
});

const fixtures = path.join(__dirname, "..", "..", "server", "tests", "fixtures");

/** A JKS keystore of two certificates, made by Java's keytool as Portecle would: the fake's CA and another. */
function trustKeystore(password: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-jks-"));
  fs.writeFileSync(path.join(dir, "fake-ca.pem"), fake.ca_pem);
  for (const [alias, file] of [["fake-ca", path.join(dir, "fake-ca.pem")], ["other", path.join(fixtures, "infobip.pem")]]) {
    execFileSync("keytool", ["-importcert", "-noprompt", "-alias", alias, "-file", file, "-keystore", path.join(dir, "provider.jks"), "-storetype", "JKS", "-storepass", password]);
  }
  return path.join(dir, "provider.jks");
}

/** A trustlist entry for the fake (on 127.0.0.1: private addresses allowed), for this tenant only. */
async function trustFake(tenant: Tenant) {
  const root = await apiAs(ROOT.username, ROOT.password);
  const r = await root.post("/api/add_trust_prefix", { form: { prefix: fake.base, scope: String(tenant.id), allow_private: "on" } });
  expect(r.status(), await r.text()).toBe(200);
  await root.dispose();
}

async function uploadViaApi(tenant: Tenant, name: string, kind: string, file: string, password = "") {
  const api = await apiAs(tenant.admin, tenant.password);
  const r = await api.post("/api/upload_certificate", {
    multipart: { name, kind, password, file: { name: path.basename(file), mimeType: "application/octet-stream", buffer: fs.readFileSync(file) } },
  });
  expect(r.status(), await r.text()).toBe(200);
  await api.dispose();
}

test("a JKS keystore with its password is one certificate entry listing both certificates", async ({ page }) => {
  expectRejectedCalls(page, 422);
  const tenant = await newTenant("Keystore");
  const jks = trustKeystore("portecle-pw");
  await signIn(page, tenant.admin, tenant.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await open(page, "/config/certificates");
  await page.getByLabel("Certificate name").fill("Provider trust");
  await page.getByLabel("Kind").selectOption({ label: "Trust certificate" });
  await page.getByLabel("Certificate file").setInputFiles(jks);
  await page.getByLabel("Keystore Password").fill("not-the-password");
  await page.getByRole("button", { name: "Upload" }).click();
  await expect(page.locator("#cert-password-error")).toHaveText("The keystore password is wrong.");
  await expect(page.getByLabel("Certificate name")).toHaveValue("Provider trust");
  await axe(page);

  await page.getByLabel("Keystore Password").fill("portecle-pw");
  await page.getByRole("button", { name: "Upload" }).click();
  const row = page.getByRole("row", { name: /Provider trust/ });
  await expect(row).toContainText("CN=Fake Provider CA");
  await expect(row).toContainText("CN=api.infobip.example");
  await expect(row.locator("code.fingerprint")).toHaveCount(2);
  await axe(page);
});

test("Test connection through the channel's own trust, a test message, and its delivery reports", async ({ page }) => {
  test.setTimeout(120_000);
  const tenant = await newTenant("Prove");
  await trustFake(tenant);
  await seedTenant(tenant, { queue: true });
  await uploadViaApi(tenant, "Provider trust", "trust", trustKeystore("portecle-pw"), "portecle-pw");
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-ca-")), "fake-ca.pem");
  fs.writeFileSync(caFile, fake.ca_pem);
  await uploadViaApi(tenant, "Fake auth", "authentication", caFile);
  await uploadViaApi(tenant, "Wrong trust", "trust", path.join(fixtures, "infobip.pem"));

  await signIn(page, tenant.admin, tenant.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);

  // a cloud-api channel whose BaseUrl is the fake, trusting the keystore that holds its CA
  const [phoneId, token] = fake.cloud;
  await page.getByRole("link", { name: "Newly created" }).click();
  // the list (whose provider filter has the same label) stays until the wizard has arrived
  await expect(page.getByRole("heading", { name: "Configure Channel" })).toBeVisible();
  await page.getByLabel("Business Solution Provider").selectOption("cloud-api");
  await page.getByLabel("APP Key").fill("1234567890");
  await page.getByLabel("APP Secret").fill("fake-app-secret");
  await page.getByLabel("Phone Number").fill("15550001111");
  await page.getByLabel("BaseUrl").fill(`${fake.base}/v21.0/${phoneId}`);
  await page.getByLabel("Access Token").fill(token);
  await page.getByLabel("Token Validity Period").fill("2030-01-31");
  await page.getByLabel("Trust Certificate").selectOption({ label: "Provider trust" });
  await page.getByLabel("Channel Name").fill("wa_fake_cloud");
  await page.getByLabel("Skill Queue", { exact: true }).selectOption({ label: "WhatsApp Care (10086)" });
  await page.getByRole("button", { name: "The next step" }).click();
  await expect(page).toHaveURL(/\/config\/channels\/\d+\/integration$/);
  await hydrated(page);
  await page.getByRole("button", { name: "Test connection" }).click();
  const cloudResult = page.locator(".test-result");
  await expect(cloudResult).toContainText("Connected");
  await expect(cloudResult).toContainText("verified name \u201cAcme Support\u201d");
  await axe(page);

  // a twilio channel with a generated Webhook Password, which the provider gets to send reports
  const [accountSid, keySid, keySecret] = fake.twilio;
  await page.getByRole("link", { name: "Back to the channel list" }).click();
  await page.getByRole("link", { name: "Newly created" }).click();
  // the list (whose provider filter has the same label) stays until the wizard has arrived
  await expect(page.getByRole("heading", { name: "Configure Channel" })).toBeVisible();
  await page.getByLabel("Business Solution Provider").selectOption("twilio");
  await page.getByLabel("Phone Number").fill("+14155238886");
  await page.getByLabel("API Key SID").fill(keySid);
  await page.getByLabel("API Key Secret").fill(keySecret);
  await page.getByLabel("BaseUrl").fill(`${fake.base}/2010-04-01`);
  // typed key by key, as a person does: the field keeps its focus while the form updates
  await page.getByLabel("Account SID").pressSequentially(accountSid);
  await expect(page.getByLabel("Account SID")).toHaveValue(accountSid);
  await page.getByLabel("Webhook User").fill("aicc_hook");
  await page.getByRole("button", { name: "Generate" }).click();
  const webhookPassword = await page.getByLabel("Webhook Password").inputValue();
  expect(webhookPassword).toMatch(/^[A-Za-z0-9]{24}$/);
  await expect(page.getByLabel("Webhook Password")).toHaveAttribute("type", "text");
  await page.getByLabel("Authentication Certificate").selectOption({ label: "Fake auth" });
  await page.getByLabel("Channel Name").fill("wa_fake_twilio");
  await page.getByLabel("Skill Queue", { exact: true }).selectOption({ label: "WhatsApp Care (10086)" });
  await axe(page);
  await page.getByRole("button", { name: "The next step" }).click();
  await expect(page).toHaveURL(/\/config\/channels\/\d+\/integration$/);
  await hydrated(page);
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.locator(".test-result")).toContainText("Connected");
  await expect(page.locator(".test-result")).toContainText("Fake Twilio");

  // the provider is told where to report, as its console would be
  const reportUrl = await page.getByLabel("url used to send report to agent", { exact: true }).inputValue();
  const toFake = await request.newContext({ ignoreHTTPSErrors: true });
  const configured = await toFake.post(`${fake.base}/_fake/callbacks`, { data: { twilio: [reportUrl, "aicc_hook", webhookPassword] } });
  expect(configured.status()).toBe(204);
  await toFake.dispose();

  await page.getByLabel("Recipient Number").fill("+49 170 1234567");
  await page.getByLabel("Message text").fill("Hello from Switchboard");
  await page.getByRole("button", { name: "Send test message" }).click();
  await expect(page.getByRole("status").filter({ hasText: "The provider accepted it as SM" })).toBeVisible();
  await axe(page);
  await page.getByRole("link", { name: "Activity page" }).click();
  await expect(page).toHaveURL(/\/activity$/);
  await hydrated(page);
  const timeline = page.locator("li.timeline").first();
  await expect(timeline).toContainText("Hello from Switchboard");
  await expect(timeline.getByLabel("Delivery reports")).toContainText("sent");
  // the reports arrive shortly after: the page shows them once reloaded
  await expect(async () => {
    await page.reload();
    await expect(page.locator("li.timeline").first().getByLabel("Delivery reports")).toContainText("delivered", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.locator("li.timeline").first().getByLabel("Delivery reports")).toContainText("read");
  await axe(page);

  // the list shows the last test of each channel
  await open(page, "/config/channels");
  for (const name of ["wa_fake_cloud", "wa_fake_twilio"]) {
    await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("Connected");
  }

  // a channel trusting a certificate that did not sign the fake's: the certificate diagnosis
  const api = await apiAs(tenant.admin, tenant.password);
  const certs = await (await api.post("/api/list_certificates")).json();
  const wrong = certs.find((c: { name: string }) => c.name === "Wrong trust");
  const queues = await (await api.post("/api/list_skill_queues")).json();
  const created = await api.post("/api/create_channel", {
    data: {
      draft: {
        provider: "cloud-api", name: "wa_wrong_trust", skill_queue_id: String(queues[0].id), app_key: "1234567890",
        app_secret: "fake-app-secret", phone_number: "15550001111", base_url: `${fake.base}/v21.0/${phoneId}`,
        access_token: token, token_valid_until: "2030-01-31", trust_certificate_id: String(wrong.id),
        workday: [{ start: "09:00", end: "18:00" }], non_workday: [{ start: "09:00", end: "18:00" }],
      },
    },
  });
  expect(created.status(), await created.text()).toBe(200);
  const wrongId = await created.json();
  await api.dispose();
  await open(page, `/config/channels/${wrongId}/integration`);
  await page.getByRole("button", { name: "Test connection" }).click();
  const result = page.locator(".test-result");
  await expect(result).toContainText("Not connected");
  await expect(result).toContainText("The server's certificate is not trusted");
  await expect(result).toContainText("CN=Fake Provider CA");
  await axe(page);
});
