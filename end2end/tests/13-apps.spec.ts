import { test, expect, axe, hydrated, open, signIn, newTenant, apiAs, unique, seedTenant, expectRejectedCalls, startFakeProvider, FakeProvider, ROOT, Tenant } from "./fixtures";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// API Management > APP Management: the system administrator makes an app for a tenant space
// and sees its secret once; the tenant administrator sees it, and an `other` channel with oAuth
// picks it, so no key or secret is typed. Test connection then gets the app's token from this
// Switchboard's own issuer and calls BaseUrl with it — this Switchboard's send API, over https
// through a TLS front with its own CA (started by the fake provider), on 127.0.0.1 (a trustlist
// entry allows the private address).

let fake: FakeProvider;
let stopFake: (() => void) | undefined;

test.beforeAll(async () => {
  const started = await startFakeProvider(true);
  fake = started.fake;
  stopFake = started.stop;
});

test.afterAll(() => {
  stopFake?.();
});

async function createApp(tenant: Tenant, name: string): Promise<{ id: number; key: string }> {
  const root = await apiAs(ROOT.username, ROOT.password);
  const r = await root.post("/api/create_app", { form: { name, tenant_id: String(tenant.id), "apis[0]": "sendWhatsappMessage" } });
  expect(r.status(), await r.text()).toBe(200);
  const shown = await r.json();
  await root.dispose();
  return { id: shown.app_id, key: shown.app_key };
}

test("the system administrator creates an app for a tenant space and sees its secret once", async ({ page }) => {
  expectRejectedCalls(page, 422);
  const tenant = await newTenant("Apps");
  const name = `CRM ${unique()}`;
  await signIn(page, ROOT.username, ROOT.password);
  await expect(page).toHaveURL(/\/system\/tenants$/);
  await hydrated(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "APP Management" }).click();
  await expect(page).toHaveURL(/\/system\/apps$/);
  await expect(page.getByRole("heading", { name: "APP Management", level: 1 })).toBeVisible();
  await axe(page);

  // nothing chosen: each field says what it needs, and what was typed stays
  await page.getByLabel("App name").fill(" ");
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator("#name-error")).toHaveText("Enter a name for the app.");
  await expect(page.locator("#tenant_id-error")).toHaveText("Choose the tenant space the app is bound to.");

  await page.getByLabel("App name").fill(name);
  await page.getByLabel("Tenant space").selectOption({ label: tenant.name });
  await expect(page.getByLabel("sendWhatsappMessage")).toBeChecked();
  await page.getByRole("button", { name: "Create app" }).click();
  const secret = page.locator("code[data-app-secret]");
  await expect(secret).toHaveText(/^sbas_[0-9a-f]{64}$/);
  const key = (await page.locator("code[data-app-key]").textContent()) ?? "";
  expect(key).toMatch(/^sbak_[0-9a-f]{32}$/);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toContainText(tenant.name);
  await expect(row).toContainText(key);
  await expect(row).toContainText("sendWhatsappMessage");
  await expect(row).toContainText("Never");
  await axe(page);

  // shown once: gone after a reload; the list never has it
  await page.reload();
  await hydrated(page);
  await expect(page.locator(".secret-once")).toHaveCount(0);
  await expect(page.getByRole("row", { name: new RegExp(name) })).toBeVisible();
  expect(await page.content()).not.toContain("sbas_");

  // a reset shows the new secret, and until when the previous one works
  await page.getByLabel("App", { exact: true }).selectOption({ label: `${name} — ${tenant.name}` });
  await page.getByLabel("Overlap (hours)").fill("48");
  await page.getByRole("button", { name: "Reset secret" }).click();
  await expect(secret).toHaveText(/^sbas_[0-9a-f]{64}$/);
  await expect(page.locator(".secret-once")).toContainText("The previous secret keeps working until");
  await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("Previous secret works until");
  await axe(page);
});

test("the tenant administrator picks the app for an oAuth channel and Test connection gets its token", async ({ page }) => {
  test.setTimeout(90_000);
  const tenant = await newTenant("OAuth");
  const base = fake.front_base!;
  const root = await apiAs(ROOT.username, ROOT.password);
  const t = await root.post("/api/add_trust_prefix", { form: { prefix: base, scope: String(tenant.id), allow_private: "on" } });
  expect(t.status(), await t.text()).toBe(200);
  await root.dispose();
  await seedTenant(tenant, { queue: true });
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-front-")), "front-ca.pem");
  fs.writeFileSync(caFile, fake.front_ca_pem!);
  const api = await apiAs(tenant.admin, tenant.password);
  const u = await api.post("/api/upload_certificate", {
    multipart: { name: "Front CA", kind: "trust", password: "", file: { name: "front-ca.pem", mimeType: "application/x-pem-file", buffer: fs.readFileSync(caFile) } },
  });
  expect(u.status(), await u.text()).toBe(200);
  await api.dispose();
  const app = await createApp(tenant, "CRM");

  await signIn(page, tenant.admin, tenant.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);
  // the apps of this space, read-only
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "APP Management" }).click();
  await expect(page).toHaveURL(/\/config\/apps$/);
  const row = page.getByRole("row", { name: /CRM/ });
  await expect(row).toContainText(app.key);
  await expect(row).toContainText("Enabled");
  await expect(page.getByRole("button", { name: /Disable|Delete|Reset/ })).toHaveCount(0);
  await axe(page);

  await open(page, "/config/channels/new");
  await expect(page.getByRole("heading", { name: "Configure Channel" })).toBeVisible();
  await page.getByLabel("Business Solution Provider").selectOption("other");
  await page.getByLabel("Verification Method").selectOption("oAuth");
  await page.getByLabel("App", { exact: true }).selectOption({ label: `CRM (${app.key.slice(0, 13)}…)` });
  // a picked app: its key and secret are not typed
  await expect(page.getByLabel("UserName")).toHaveCount(0);
  await expect(page.getByLabel("Password", { exact: true })).toHaveCount(0);
  await page.getByLabel("BaseUrl").fill(`${base}/apiaccess/rest/ccmessaging`);
  await page.getByRole("button", { name: "Generate" }).click();
  await page.getByLabel("Trust Certificate").selectOption({ label: "Front CA" });
  await page.getByLabel("Channel Name").fill("wa_oauth_app");
  await page.getByLabel("Skill Queue", { exact: true }).selectOption({ label: "WhatsApp Care (10086)" });
  await axe(page);
  await page.getByRole("button", { name: "The next step" }).click();
  await expect(page).toHaveURL(/\/config\/channels\/\d+\/integration$/);
  await hydrated(page);
  await page.getByRole("button", { name: "Test connection" }).click();
  const result = page.locator(".test-result");
  await expect(result).toContainText("Connected (oAuth)");
  await expect(result).toContainText("\u201cCRM\u201d");
  await axe(page);

  // the Edit page shows the app picked, still no secret asked
  const id = /channels\/(\d+)\/integration/.exec(page.url())![1];
  await open(page, `/config/channels/${id}/edit`);
  await expect(page.getByLabel("App", { exact: true })).toHaveValue(String(app.id));
  await expect(page.getByLabel("Password", { exact: true })).toHaveCount(0);
});
