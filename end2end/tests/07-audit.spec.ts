import { test, expect, axe, hydrated, open, signIn, newTenant, trust, seedTenant, createChannel, ROOT, expectRejectedCalls } from "./fixtures";

// The test makes its own tenant space and channel.

test("an edit is in the audit log with its field diff; the channel's history and the .csv", async ({ page }) => {
  const TENANT = await newTenant("Audit");
  await trust(TENANT, ["https://api.infobip.com"]);
  const { queue } = await seedTenant(TENANT, { queue: true });
  await createChannel(TENANT, {
    provider: "infobip", name: "wa_audit", skill_queue_id: queue, phone_number: "+4915112345678",
    username: "acme", password: "audit-secret-password", base_url: "https://api.infobip.com",
    account_key: "audit-secret-key", webhook_password: "audit-secret-hook",
    non_working_notification: "We are closed.",
  });
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);

  // an edit: one text field and the Webhook Password
  await page.getByRole("link", { name: "Edit wa_audit" }).click();
  await hydrated(page);
  await page.getByLabel("Non-Working Time Notification").fill("Back on Monday.");
  await page.getByLabel("Webhook Password").fill("audit-secret-hook-2");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/config\/channels$/);

  // Edit links to the channel's history
  await page.getByRole("link", { name: "Edit wa_audit" }).click();
  await page.getByRole("link", { name: "History" }).click();
  await expect(page).toHaveURL(/\/config\/audit\?object=channel&object_id=\d+$/);
  await expect(page.getByRole("heading", { name: "Audit Log" })).toBeVisible();
  await expect(page.getByText(/Showing the history of one object/)).toBeVisible();
  const rows = page.locator("table.audit > tbody > tr");
  await expect(rows).toHaveCount(2);
  const edited = page.locator('tr[data-action="channel_edited"]');
  await expect(edited).toContainText("Channel edited");
  await expect(edited).toContainText(TENANT.admin);
  await expect(edited).toContainText("Tenant administrator");
  await expect(edited).toContainText("127.0.0.1");
  await edited.getByText("2 fields").click();
  const diff = edited.locator("table.diff");
  await expect(diff.getByRole("row", { name: /Non-Working Time Notification/ })).toContainText("We are closed.");
  await expect(diff.getByRole("row", { name: /Non-Working Time Notification/ })).toContainText("Back on Monday.");
  await expect(diff.getByRole("row", { name: /Webhook Password/ })).toContainText("changed");
  await expect(page.locator("main")).not.toContainText("audit-secret");
  await axe(page);

  // filters in the address; an action filter narrows to the edit
  await page.getByLabel("Action", { exact: true }).selectOption("channel_edited");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/action=channel_edited/);
  await expect(rows).toHaveCount(1);
  // a bad date range is told next to its field
  expectRejectedCalls(page, 422);
  await page.getByLabel("From", { exact: true }).fill("2026-02-02");
  await page.getByLabel("To", { exact: true }).fill("2026-02-01");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText("The end date must not be before the start date.")).toBeVisible();
  await expect(page.getByLabel("From", { exact: true })).toHaveValue("2026-02-02");

  // the whole tenant log, and its .csv with the same filters
  await page.getByRole("link", { name: "Audit Log" }).click();
  await expect(page.locator('tr[data-action="sign_in"]').first()).toBeVisible();
  await expect(page.locator('tr[data-action="skill_queue_created"]')).toBeVisible();
  await page.getByLabel("Action", { exact: true }).selectOption("channel_created");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(rows).toHaveCount(1);
  const href = await page.getByRole("link", { name: "Export .csv" }).getAttribute("href");
  expect(href).toBe("/config/audit.csv?action=channel_created");
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-type"]).toBe("text/csv; charset=utf-8");
  const lines = (await csv.text()).split("\r\n").filter((l) => l);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain("wa_audit");
  expect(lines[1]).not.toContain("audit-secret");
  await axe(page);

  // the system administrator sees the tenant's entries with its name
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await signIn(page, ROOT.username, ROOT.password);
  await expect(page).toHaveURL(/\/system\/tenants$/);
  await open(page, `/system/audit?actor=${TENANT.admin}`);
  await expect(page.locator('tr[data-action="channel_edited"]')).toContainText(TENANT.name);
  await expect(page.locator('tr[data-action="sign_out"]')).toBeVisible();
  await axe(page);
});
