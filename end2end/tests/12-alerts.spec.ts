import { test, expect, axe, open, signIn, newTenant, apiAs, expectRejectedCalls, startFakeProvider, FakeProvider, ROOT, Tenant } from "./fixtures";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// Overview → Alerts: where a tenant space's alerts go, the webhook's signing secret shown once,
// a test alert and the attempts it made. The webhook is the fake provider's `/alerts` over
// real HTTPS on 127.0.0.1 (its CA uploaded as the webhook's certificate); this server has no
// mail server, so the address's attempt says so.

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

/** The fake on the trustlist of this tenant space (on 127.0.0.1: private addresses allowed), and its CA uploaded. */
async function receiverFor(tenant: Tenant) {
  const root = await apiAs(ROOT.username, ROOT.password);
  const r = await root.post("/api/add_trust_prefix", { form: { prefix: fake.base, scope: String(tenant.id), allow_private: "on" } });
  expect(r.status(), await r.text()).toBe(200);
  await root.dispose();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-alerts-"));
  const file = path.join(dir, "receiver-ca.pem");
  fs.writeFileSync(file, fake.ca_pem);
  const api = await apiAs(tenant.admin, tenant.password);
  const u = await api.post("/api/upload_certificate", {
    multipart: { name: "Alert receiver CA", kind: "trust", password: "", file: { name: "receiver-ca.pem", mimeType: "application/x-pem-file", buffer: fs.readFileSync(file) } },
  });
  expect(u.status(), await u.text()).toBe(200);
  await api.dispose();
}

test("alerts are set on the Overview's Alerts page: a wrong address is shown at its field, the signing secret once, a test alert's attempts in the log", async ({ page }) => {
  expectRejectedCalls(page, 422);
  const tenant = await newTenant("Alerts");
  await receiverFor(tenant);
  await signIn(page, tenant.admin, tenant.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await open(page, "/config");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts", exact: true }).click();
  await expect(page).toHaveURL(/\/config\/alerts$/);
  await expect(page.getByRole("heading", { name: "Alerts", level: 1 })).toBeVisible();
  await expect(page.getByText("No alert sent yet")).toBeVisible();
  await axe(page);

  // a wrong address: its own error, and what was typed stays
  const emails = page.getByLabel("E-mail addresses");
  await emails.fill("ops@example.com\nnight-shift.example.com");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.locator("#emails-error")).toHaveText("night-shift.example.com has no @");
  await expect(emails).toHaveValue("ops@example.com\nnight-shift.example.com");
  await expect(page.locator(".secret-once")).toHaveCount(0);

  await emails.fill("ops@example.com\nnight-shift@example.com");
  await page.getByLabel("Webhook URL").fill(`${fake.base}/alerts`);
  await page.getByLabel("The webhook's certificate is signed by").selectOption({ label: "Alert receiver CA" });
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  const secret = page.locator("code[data-secret=alert]");
  await expect(secret).toHaveText(/^sbwhsec_[0-9a-f]{64}$/);
  await axe(page);

  // shown once: not after a reload, and the page says one is set
  await page.reload();
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
  await expect(page.locator(".secret-once")).toHaveCount(0);
  await expect(page.getByText("A signing secret is set")).toBeVisible();
  await expect(page.getByLabel("E-mail addresses")).toHaveValue("ops@example.com\nnight-shift@example.com");

  // a test alert: delivered to the webhook; the addresses' attempts say this server sends no mail
  await page.getByRole("button", { name: "Send test alert" }).click();
  await expect(page.getByText("Test alert queued")).toBeVisible();
  const attempts = page.locator("table tbody tr");
  await expect(attempts).toHaveCount(3, { timeout: 15_000 });
  const webhook = attempts.filter({ hasText: `Webhook ${fake.base}/alerts` });
  await expect(webhook).toContainText("Test alert");
  await expect(webhook).toContainText(/Delivered: HTTP 200 in \d+ ms/);
  await expect(attempts.filter({ hasText: "E-mail ops@example.com" })).toContainText("E-mail is not set up on this server");
  await axe(page);
});
