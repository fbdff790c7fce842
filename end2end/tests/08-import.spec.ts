import { test, expect, axe, hydrated, signIn, newTenant, trust, seedTenant, createChannel, expectRejectedCalls } from "./fixtures";
import { Page } from "@playwright/test";
import ExcelJS from "exceljs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// The test makes its own tenant space and channels.

async function exportAll(page: Page): Promise<Buffer> {
  await page.getByRole("button", { name: "Export", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Export task started" })).toBeVisible();
  await page.getByRole("link", { name: "Export Tasks" }).last().click();
  await hydrated(page);
  const row = page.getByRole("row").nth(1);
  await expect(row).toContainText("Success", { timeout: 30_000 });
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    row.getByRole("link", { name: /^Download / }).click(),
  ]);
  return fs.readFileSync(await download.path());
}

test("export three channels, edit one cell of each in a spreadsheet, import, apply", async ({ page }) => {
  const TENANT = await newTenant("Import");
  await trust(TENANT, ["https://api.infobip.com"]);
  const { queue } = await seedTenant(TENANT, { queue: true });
  for (const n of [1, 2, 3]) {
    await createChannel(TENANT, {
      provider: "infobip", name: `wa_import_${n}`, skill_queue_id: queue, phone_number: `+491511234567${n}`,
      username: "acme", password: "import-secret-password", base_url: "https://api.infobip.com",
      account_key: "import-secret-key", webhook_password: "import-secret-hook", keywords: "agent",
    });
  }
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);
  const exported = await exportAll(page);

  // one cell per channel, changed as a person would in Excel: by header, in a real workbook
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(exported);
  const sheet = book.worksheets[0];
  const header = (sheet.getRow(1).values as unknown[]).map((v) => String(v ?? ""));
  const column = (name: string) => header.indexOf(name);
  expect(sheet.rowCount).toBe(4);
  const edits: Record<string, [string, string]> = {
    wa_import_1: ["Keyword for Transfer to Agent", "human, person"],
    wa_import_2: ["Non-Working Time Notification", "Closed until Monday."],
    wa_import_3: ["Agent Work Time (Workday)", "08:00–12:00, 13:00–17:00"],
  };
  for (let r = 2; r <= 4; r++) {
    const row = sheet.getRow(r);
    const [col, value] = edits[String(row.getCell(column("Channel Name")).value)];
    row.getCell(column(col)).value = value;
    row.commit();
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "import-")), "channels-edited.xlsx");
  await book.xlsx.writeFile(file);

  // the channel list's Import
  await page.getByRole("link", { name: "Channel Configuration" }).first().click();
  await hydrated(page);
  await page.getByRole("link", { name: "Import", exact: true }).click();
  await expect(page).toHaveURL(/\/config\/channels\/import$/);
  await hydrated(page);
  await axe(page);

  // a file that is not a spreadsheet is refused next to the field
  expectRejectedCalls(page, 422);
  await page.getByLabel("Edited export").setInputFiles({ name: "notes.xlsx", mimeType: "text/plain", buffer: Buffer.from("a,b\n1,2\n") });
  await page.getByRole("button", { name: "Check (dry run)" }).click();
  await expect(page.locator("#import-file-error")).toHaveText(/This file is not a spreadsheet/);

  // the dry run shows each change as a field diff; nothing is saved yet
  await page.getByLabel("Edited export").setInputFiles(file);
  await page.getByRole("button", { name: "Check (dry run)" }).click();
  await expect(page).toHaveURL(/\/config\/channels\/import\/\d+$/);
  await expect(page.locator(".import-summary")).toContainText("Checked", { timeout: 30_000 });
  await expect(page.getByRole("link", { name: "Changed (3)" })).toBeVisible();
  const rows = page.locator("table.import-rows > tbody > tr");
  await expect(rows).toHaveCount(3);
  const first = rows.filter({ hasText: "wa_import_1" });
  await expect(first).toContainText("Row 2");
  await expect(first.getByRole("row", { name: /Keyword for Transfer to Agent/ })).toContainText("agent");
  await expect(first.getByRole("row", { name: /Keyword for Transfer to Agent/ })).toContainText("human, person");
  await expect(rows.filter({ hasText: "wa_import_3" })).toContainText("08:00–12:00, 13:00–17:00");
  await expect(page.locator("main")).not.toContainText("import-secret");
  await axe(page);

  // Apply: all three at once
  await page.getByRole("button", { name: "Apply 3 changes" }).click();
  await expect(page.locator(".import-summary")).toContainText("Applied: 3 channels changed.", { timeout: 30_000 });
  await axe(page);

  // the new values in Edit
  await page.getByRole("link", { name: "wa_import_1" }).click();
  await expect(page).toHaveURL(/\/config\/channels\/\d+\/edit$/);
  await hydrated(page);
  await expect(page.getByLabel("Keyword for Transfer to Agent")).toHaveValue("human, person");
  await page.goBack();
  await hydrated(page);
  await page.getByRole("link", { name: "wa_import_2" }).click();
  await hydrated(page);
  await expect(page.getByLabel("Non-Working Time Notification")).toHaveValue("Closed until Monday.");

  // three entries in the audit log, one per channel, each with its diff
  await page.getByRole("link", { name: "Audit Log" }).click();
  await hydrated(page);
  await page.getByLabel("Action", { exact: true }).selectOption("channel_imported");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/action=channel_imported/);
  const entries = page.locator("table.audit > tbody > tr");
  await expect(entries).toHaveCount(3);
  const second = page.locator('tr[data-action="channel_imported"]').filter({ hasText: "wa_import_2" });
  await second.getByText("1 field").click();
  await expect(second.locator("table.diff")).toContainText("Closed until Monday.");
  await axe(page);
});
