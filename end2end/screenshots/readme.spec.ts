import { test, expect, hydrated, open, signIn, newTenant, apiAs, trust, seedTenant, createChannel, ROOT, Tenant } from "../tests/fixtures";
import { Page } from "@playwright/test";
import { ChildProcess, spawn } from "child_process";
import { createHmac } from "crypto";
import ExcelJS from "exceljs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// The README's pictures, made from a real server with real data (`make screenshots`, which
// writes them to docs/screenshots/): the channel list, the wizard, Channel Integration after a
// Test connection against the fake provider, the Activity timeline, the Overview and an
// import's dry run. Run only when SCREENSHOTS names the folder (playwright.config.ts).

const OUT = process.env.SCREENSHOTS ?? "";
const SIZE = { width: 1366, height: 768 };

type Fake = { base: string; ca_pem: string; twilio: [string, string, string]; cloud: [string, string] };
let fake: Fake;
let fakeProcess: ChildProcess | undefined;

test.beforeAll(async () => {
  const bin = process.env.FAKE_PROVIDER_BIN;
  if (!bin) throw new Error("run with end2end/run.sh (FAKE_PROVIDER_BIN)");
  fakeProcess = spawn(bin, [], { stdio: ["ignore", "pipe", "inherit"] });
  fake = JSON.parse(
    await new Promise<string>((resolve, reject) => {
      let buffer = "";
      fakeProcess!.stdout!.on("data", (d) => {
        buffer += d.toString();
        const end = buffer.indexOf("\n");
        if (end >= 0) resolve(buffer.slice(0, end));
      });
      fakeProcess!.on("exit", () => reject(new Error("the fake provider exited")));
    }),
  );
});

test.afterAll(() => {
  fakeProcess?.kill();
});

async function shot(page: Page, name: string) {
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, name) });
}

/** A trustlist entry for the fake (on 127.0.0.1), for this tenant only. */
async function trustFake(tenant: Tenant) {
  const root = await apiAs(ROOT.username, ROOT.password);
  const r = await root.post("/api/add_trust_prefix", { form: { prefix: fake.base, scope: String(tenant.id), allow_private: "on" } });
  expect(r.status(), await r.text()).toBe(200);
  await root.dispose();
}

test("the README's screenshots", async ({ page }) => {
  test.setTimeout(120_000);
  const tenant = await newTenant("Acme Support");
  await trust(tenant, ["https://api.infobip.com", "https://graph.facebook.com"]);
  await trustFake(tenant);
  const { queue, ou } = await seedTenant(tenant, { queue: true, ou: true });
  const api = await apiAs(tenant.admin, tenant.password);
  const ca = await api.post("/api/upload_certificate", {
    multipart: { name: "Provider CA", kind: "trust", file: { name: "provider-ca.pem", mimeType: "application/x-pem-file", buffer: Buffer.from(fake.ca_pem) } },
  });
  expect(ca.status(), await ca.text()).toBe(200);
  const caId = String(await ca.json());
  await api.dispose();
  const [phoneId, token] = fake.cloud;
  const cloud = await createChannel(tenant, {
    provider: "cloud-api", name: "wa_customer_care", skill_queue_id: queue, ou_id: ou, app_key: "1234567890",
    app_secret: "app_secret_123", phone_number: "15550001111", base_url: `${fake.base}/v21.0/${phoneId}`,
    access_token: token, token_valid_until: "2030-01-31", trust_certificate_id: caId,
    keywords: "agent, human",
  });
  for (const [name, phone] of [["wa_sales_emea", "+4915112345671"], ["wa_billing", "+4915112345672"], ["wa_returns", "+4915112345673"]]) {
    await createChannel(tenant, {
      provider: "infobip", name, skill_queue_id: queue, ou_id: ou, phone_number: phone, username: "acme",
      password: "infobip-secret", base_url: "https://api.infobip.com", account_key: "acc-key", webhook_password: "hook-secret",
      keywords: "agent",
    });
  }
  await createChannel(tenant, {
    provider: "cloud-api", name: "wa_campaigns", skill_queue_id: queue, app_key: "1234567890", app_secret: "app_secret_123",
    phone_number: "15550002222", base_url: "https://graph.facebook.com/v19.0", access_token: "EAAB-token",
    token_valid_until: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10),
  });

  await page.setViewportSize(SIZE);
  await signIn(page, tenant.admin, tenant.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);

  // Channel Integration: Test connection against the fake provider, then a message it received
  await page.getByRole("link", { name: "Integration of wa_customer_care" }).click();
  await expect(page).toHaveURL(new RegExp(`/config/channels/${cloud}/integration$`));
  await hydrated(page);
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.locator(".test-result")).toContainText("Connected");
  await shot(page, "integration.png");

  const url = await page.getByLabel("URL", { exact: true }).inputValue();
  for (const [id, text] of [["wamid.1", "Hello, I need help with my order"], ["wamid.2", "It is order 4711"]]) {
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{ id: "1", changes: [{ field: "messages", value: {
        messaging_product: "whatsapp", metadata: { display_phone_number: "15550001111", phone_number_id: phoneId },
        messages: [{ from: "4915112345678", id, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body: text } }],
      } }] }],
    });
    const signature = "sha256=" + createHmac("sha256", "app_secret_123").update(body).digest("hex");
    const r = await page.request.post(url, { headers: { "Content-Type": "application/json", "X-Hub-Signature-256": signature }, data: body });
    expect(r.status()).toBe(200);
  }
  await open(page, `/config/channels/${cloud}/activity`);
  await expect(page.getByRole("row", { name: /It is order 4711/ })).toContainText("Message");
  await shot(page, "activity.png");

  // the list, the Overview, the wizard
  await open(page, "/config/channels");
  await expect(page.getByRole("row", { name: /wa_customer_care/ })).toContainText("Connected");
  await shot(page, "channel-list.png");
  await open(page, "/config");
  await shot(page, "overview.png");
  await open(page, "/config/channels");
  await page.getByRole("link", { name: "Newly created" }).click();
  await expect(page.getByRole("heading", { name: "Configure Channel" })).toBeVisible();
  await page.getByLabel("Business Solution Provider").selectOption("cloud-api");
  await page.getByLabel("APP Key").fill("1234567890");
  await page.getByLabel("Phone Number").fill("15550003333");
  await page.getByLabel("BaseUrl").fill("https://graph.facebook.com/v19.0/106540352242922");
  await shot(page, "wizard.png");

  // an import's dry run: the export, one cell changed as in a spreadsheet
  await open(page, "/config/channels");
  await page.getByRole("button", { name: "Export", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Export task started" })).toBeVisible();
  await open(page, "/config/exports");
  const row = page.getByRole("row").nth(1);
  await expect(row).toContainText("Success", { timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("link", { name: /^Download / }).click()]);
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(fs.readFileSync(await download.path()));
  const sheet = book.worksheets[0];
  const header = (sheet.getRow(1).values as unknown[]).map((v) => String(v ?? ""));
  for (let r = 2; r <= sheet.rowCount; r++) {
    const cells = sheet.getRow(r);
    if (String(cells.getCell(header.indexOf("Channel Name")).value) === "wa_billing") {
      cells.getCell(header.indexOf("Keyword for Transfer to Agent")).value = "agent, billing";
      cells.commit();
    }
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "screenshots-")), "channels-edited.xlsx");
  await book.xlsx.writeFile(file);
  await open(page, "/config/channels/import");
  await page.getByLabel("Edited export").setInputFiles(file);
  await page.getByRole("button", { name: "Check (dry run)" }).click();
  await expect(page.locator(".import-summary")).toContainText("Checked", { timeout: 30_000 });
  await shot(page, "import-dry-run.png");
});
