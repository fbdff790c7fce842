import { test, expect, axe, hydrated, signIn, newTenant, trust, seedTenant, createChannel, unique, ROOT } from "./fixtures";
import { Download, Page } from "@playwright/test";
import { execFileSync } from "child_process";
import * as fs from "fs";
import JSZip from "jszip";

// Every test makes its own tenant space and channels.

/** The rows of every sheet of an .xlsx, as arrays of cell strings (shared strings resolved). */
async function xlsxRows(bytes: Buffer): Promise<string[][]> {
  const zip = await JSZip.loadAsync(bytes);
  const shared = await zip.file("xl/sharedStrings.xml")!.async("string");
  const strings = [...shared.matchAll(/<si>(?:<t[^>]*>([\s\S]*?)<\/t>)<\/si>/g)].map((m) =>
    m[1].replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'"),
  );
  const sheet = await zip.file("xl/worksheets/sheet1.xml")!.async("string");
  return [...sheet.matchAll(/<row [^>]*>([\s\S]*?)<\/row>/g)].map((row) =>
    [...row[1].matchAll(/<c [^>]*t="s"[^>]*><v>(\d+)<\/v><\/c>/g)].map((c) => strings[Number(c[1])]),
  );
}

async function exportAndDownload(page: Page): Promise<{ download: Download; bytes: Buffer }> {
  await page.getByRole("button", { name: "Export", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Export task started" })).toBeVisible();
  await page.getByRole("link", { name: "Export Tasks" }).last().click();
  await expect(page).toHaveURL(/\/config\/exports$/);
  await hydrated(page);
  const row = page.getByRole("row").nth(1);
  await expect(row).toContainText("Success", { timeout: 30_000 });
  await axe(page);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    row.getByRole("link", { name: /^Download / }).click(),
  ]);
  const bytes = fs.readFileSync(await download.path());
  return { download, bytes };
}

test("three selected channels export to one spreadsheet", async ({ page }) => {
  const TENANT = await newTenant("Export");
  await trust(TENANT, ["https://api.infobip.com", "https://bsp.itau.example", "https://graph.facebook.com"]);
  const { queue, ou } = await seedTenant(TENANT, { queue: true, ou: true });
  await createChannel(TENANT, {
    provider: "infobip", name: "wa_e2e_infobip", skill_queue_id: queue, ou_id: ou, phone_number: "+4915112345678",
    username: "acme", password: "infobip-secret", base_url: "https://api.infobip.com/whatsapp",
    account_key: "acc-key-1", webhook_password: "hook-secret-1",
  });
  await createChannel(TENANT, {
    provider: "other", verification_method: "basic", name: "wa_e2e_other_basic", skill_queue_id: queue,
    phone_number: "5511987654321", username: "itau", password: "itau-secret", base_url: "https://bsp.itau.example/api",
    authentication_key: "auth-key-1", webhook_password: "hook-secret-2",
  });
  await createChannel(TENANT, {
    provider: "cloud-api", name: "wa_e2e_cloud", skill_queue_id: queue, app_key: "1234567890",
    app_secret: "app_secret_123", phone_number: "15550001111", base_url: "https://graph.facebook.com/v19.0",
    access_token: "EAAB-token", token_valid_until: "2030-01-31",
  });
  // one more that is not selected
  await createChannel(TENANT, {
    provider: "infobip", name: "wa_e2e_unselected", skill_queue_id: queue, phone_number: "+4915112345679",
    username: "acme", password: "infobip-secret", base_url: "https://api.infobip.com/whatsapp",
    account_key: "acc-key-1", webhook_password: "hook-secret-1",
  });
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);
  for (const name of ["wa_e2e_infobip", "wa_e2e_other_basic", "wa_e2e_cloud"]) {
    await page.getByLabel(`Select ${name}`).check();
  }
  const { download, bytes } = await exportAndDownload(page);
  expect(download.suggestedFilename()).toMatch(/^channels-\d{8}-\d{4}\.xlsx$/);
  const rows = await xlsxRows(bytes);
  expect(rows[0].slice(0, 5)).toEqual([
    "Channel Name",
    "Channel Type",
    "Business Solution Provider",
    "OU Configuration",
    "Skill Queue",
  ]);
  expect(rows.slice(1).map((r) => r[0]).sort()).toEqual(["wa_e2e_cloud", "wa_e2e_infobip", "wa_e2e_other_basic"]);
  const infobip = rows.find((r) => r[0] === "wa_e2e_infobip")!;
  expect(infobip.slice(1, 5)).toEqual(["WhatsApp", "infobip", "Sales", "WhatsApp Care"]);
  // secrets typed in the wizard are in no cell
  const all = rows.flat().join("\n");
  for (const secret of ["infobip-secret", "acc-key-1", "hook-secret-1", "app_secret_123", "EAAB-token"]) {
    expect(all).not.toContain(secret);
  }
});

test("exporting all of 2,001 channels gives a zip of 2,000 + 1", async ({ page, request }) => {
  test.setTimeout(120_000);
  // a tenant space of its own, filled by the CLI
  await signIn(page, ROOT.username, ROOT.password);
  await expect(page).toHaveURL(/\/system\/tenants$/);
  const suffix = unique();
  const created = await page.request.post("/api/create_tenant", {
    form: { name: `Bulk Export ${suffix}`, admin_username: `bulk-${suffix}`, admin_password: "bulk-password-1" },
  });
  expect(created.status()).toBe(200);
  execFileSync(process.env.SWITCHBOARD_BIN!, ["seed-demo", "--tenant", `Bulk Export ${suffix}`, "--channels", "2001"], {
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: "error" },
  });
  await page.context().clearCookies();
  await signIn(page, `bulk-${suffix}`, "bulk-password-1");
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);
  await expect(page.getByText("2,001 channels", { exact: false })).toBeVisible();
  const { download, bytes } = await exportAndDownload(page);
  expect(download.suggestedFilename()).toMatch(/^channels-\d{8}-\d{4}\.zip$/);
  const zip = await JSZip.loadAsync(bytes);
  const names = Object.keys(zip.files).sort();
  expect(names).toEqual(["channels-001.xlsx", "channels-002.xlsx"]);
  const first = await xlsxRows(await zip.file("channels-001.xlsx")!.async("nodebuffer"));
  const second = await xlsxRows(await zip.file("channels-002.xlsx")!.async("nodebuffer"));
  expect(first.length - 1).toBe(2000);
  expect(second.length - 1).toBe(1);
  expect(second[1][0]).toMatch(/^demo_\d{6}$/);
});
