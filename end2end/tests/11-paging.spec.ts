import { test, expect, axe, hydrated, signIn, newTenant } from "./fixtures";
import { Page } from "@playwright/test";
import { execFileSync } from "child_process";

// The test makes its own tenant space, filled with 3,000 channels by the CLI.

const name = (i: number) => `demo_${String(i).padStart(6, "0")}`;

async function firstRow(page: Page): Promise<string> {
  return (await page.locator("table.channels tbody th.name").first().textContent()) ?? "";
}

test("a list of 3,000 channels pages to the end and back by seeking, and searches", async ({ page }) => {
  test.setTimeout(180_000);
  const TENANT = await newTenant("Paging");
  execFileSync(process.env.SWITCHBOARD_BIN!, ["seed-demo", "--tenant", TENANT.name, "--channels", "3000"], {
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: "error" },
  });
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);
  const pager = page.getByRole("navigation", { name: "Pages" });
  const button = (label: string) => pager.getByRole("button", { name: label, exact: true });
  await expect(pager).toContainText("3,000 channels · page 1 of 150");
  await expect(button("Previous")).toBeDisabled();
  await expect(button("First")).toBeDisabled();
  await page.getByLabel("Rows per page").selectOption("100");
  await expect(pager).toContainText("3,000 channels · page 1 of 30");
  await expect(page.locator("table.channels tbody tr")).toHaveCount(100);

  // to the end by Next, one page after another: each starts where the last one ended
  for (let p = 2; p <= 30; p++) {
    await button("Next").click();
    await expect(pager).toContainText(`page ${p} of 30`);
    expect(await firstRow(page)).toBe(name((p - 1) * 100));
  }
  await expect(button("Next")).toBeDisabled();
  await expect(button("Last")).toBeDisabled();
  await expect(page.locator("table.channels tbody th.name").last()).toHaveText(name(2999));
  // and back by Previous
  for (let p = 29; p >= 1; p--) {
    await button("Previous").click();
    await expect(pager).toContainText(`page ${p} of 30`);
    expect(await firstRow(page)).toBe(name((p - 1) * 100));
  }
  await expect(button("Previous")).toBeDisabled();

  // Last and First jump; Previous from the last page counts back from the end
  await button("Last").click();
  await expect(pager).toContainText("page 30 of 30");
  expect(await firstRow(page)).toBe(name(2900));
  await button("Previous").click();
  await expect(pager).toContainText("page 29 of 30");
  expect(await firstRow(page)).toBe(name(2800));
  await button("First").click();
  await expect(pager).toContainText("page 1 of 30");
  expect(await firstRow(page)).toBe(name(0));

  // a sort starts over at its first page
  await page.getByRole("button", { name: /Channel Name/ }).click();
  await expect(pager).toContainText("page 1 of 30");
  expect(await firstRow(page)).toBe(name(2999));
  await button("Next").click();
  await expect(pager).toContainText("page 2 of 30");
  expect(await firstRow(page)).toBe(name(2899));

  // a search on the name index: a substring, then the start of a name
  await page.getByLabel("Search by name").fill("MO_00120");
  await expect(pager).toContainText(/^10 channels · page 1 of 1/);
  await expect(page.locator("table.channels tbody tr")).toHaveCount(10);
  expect(await firstRow(page)).toBe(name(1209));
  await page.getByLabel("Search by name").fill("d");
  await expect(pager).toContainText(/^3,000 channels · page 1 of 30/);
  await page.getByLabel("Search by name").fill("e");
  await expect(page.getByText("No matching channels")).toBeVisible();
  await page.getByLabel("Search by name").fill("");
  await page.getByLabel("Business Solution Provider").selectOption("twilio");
  await expect(pager).toContainText(/^600 channels · page 1 of 6/);
  await axe(page);
});
