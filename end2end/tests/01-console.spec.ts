import * as path from "path";
import { test, expect, axe, open, hydrated, signIn, watch, expectRejectedCalls, newTenant, unique, startOwnServer, confirmDelete, ROOT } from "./fixtures";

// Every test makes the tenant space it works in: none depends on another.

test("first-run setup creates the system administrator", async ({ page }) => {
  // only a fresh installation has a setup link: a server of its own, on an empty database
  const own = await startOwnServer();
  const url = new URL(own.setupLink);
  expectRejectedCalls(page, 422);
  await open(page, own.baseURL + url.pathname + url.search);
  await expect(page.getByRole("heading", { name: "Create the system administrator" })).toBeVisible();
  await axe(page);

  // a mismatch is reported next to the field, and what was typed stays
  await page.getByLabel("Username").fill(ROOT.username);
  await page.getByLabel("Password", { exact: true }).fill(ROOT.password);
  await page.getByLabel("Confirm password").fill("something-else");
  await page.getByRole("button", { name: "Create system administrator" }).click();
  await expect(page.locator("#confirm_password-error")).toHaveText("The passwords do not match.");
  await expect(page.getByLabel("Username")).toHaveValue(ROOT.username);
  await expect(page.getByLabel("Confirm password")).toHaveAttribute("aria-invalid", "true");
  await axe(page);

  await page.getByLabel("Confirm password").fill(ROOT.password);
  await page.getByRole("button", { name: "Create system administrator" }).click();
  await expect(page).toHaveURL(/\/system\/tenants$/);
  await expect(page.getByRole("heading", { name: "Tenant Spaces", level: 1 })).toBeVisible();

  // the link is spent
  await open(page, own.baseURL + url.pathname + url.search);
  await expect(page.getByText("Setup is complete")).toBeVisible();
  await own.stop();
});

test("the system administrator creates a tenant space with its administrator", async ({ page }) => {
  expectRejectedCalls(page, 422);
  const TENANT = { name: `Acme Support ${unique()}`, admin: `acme-${unique()}`, password: "acme-password-1" };
  await signIn(page, ROOT.username, ROOT.password);
  await expect(page).toHaveURL(/\/system\/tenants$/);
  await hydrated(page);
  await axe(page);

  // bad input: a message per field, values kept
  await page.getByLabel("Tenant space name").fill("A");
  await page.getByLabel("Administrator username").fill(TENANT.admin);
  await page.getByLabel("Administrator password").fill("short");
  await page.getByRole("button", { name: "Create tenant space" }).click();
  await expect(page.locator("#name-error")).toHaveText(
    "The tenant space name must be at least 2 characters.",
  );
  await expect(page.locator("#admin_password-error")).toHaveText(
    "The password must be at least 8 characters.",
  );
  await expect(page.getByLabel("Administrator username")).toHaveValue(TENANT.admin);
  await axe(page);

  await page.getByLabel("Tenant space name").fill(TENANT.name);
  await page.getByLabel("Administrator password").fill(TENANT.password);
  await page.getByRole("button", { name: "Create tenant space" }).click();
  await expect(page.getByRole("status")).toHaveText("Tenant space created.");
  const row = page.getByRole("row", { name: new RegExp(TENANT.name) });
  await expect(row).toContainText(TENANT.admin);
  await expect(row).toContainText("Active");
  // the form is cleared for the next one
  await expect(page.getByLabel("Tenant space name")).toHaveValue("");
  await axe(page);
});

test("the system administrator keeps the address trustlist", async ({ page }) => {
  expectRejectedCalls(page, 422);
  const TENANT = await newTenant("Trust");
  // hosts of this test alone: the trustlist is shared by every tenant space
  const host = `api-${unique()}.infobip.example`;
  const escaped = host.replace(/[.]/g, "\\.");
  await signIn(page, ROOT.username, ROOT.password);
  await expect(page).toHaveURL(/\/system\/tenants$/);
  await page.getByRole("link", { name: "Address Trustlist" }).click();
  await expect(page).toHaveURL(/\/system\/trustlist$/);
  await expect(page.getByRole("heading", { name: "Address Trustlist", level: 1 })).toBeVisible();
  await axe(page);

  await page.getByLabel("BaseUrl prefix").fill(`http://${host}`);
  await page.getByRole("button", { name: "Add prefix" }).click();
  await expect(page.locator("#prefix-error")).toContainText("must start with https://");
  await expect(page.getByLabel("BaseUrl prefix")).toHaveValue(`http://${host}`);

  await page.getByLabel("BaseUrl prefix").fill(`https://${host}/`);
  await page.getByRole("button", { name: "Add prefix" }).click();
  const global = page.getByRole("row", { name: new RegExp(`https://${escaped}$|https://${escaped} `) });
  await expect(global).toContainText("Global");

  await page.getByLabel("BaseUrl prefix").fill(`https://${host}/scoped`);
  await page.getByLabel("Scope").selectOption({ label: TENANT.name });
  await page.getByRole("button", { name: "Add prefix" }).click();
  const scoped = page.getByRole("row", { name: new RegExp(`https://${escaped}/scoped`) });
  await expect(scoped).toContainText(TENANT.name);
  await axe(page);

  await confirmDelete(page, `Remove https://${host}/scoped`);
  await expect(scoped).toHaveCount(0);
  await confirmDelete(page, `Remove https://${host}`);
  await expect(page.getByRole("row", { name: new RegExp(escaped) })).toHaveCount(0);
});

test("the tenant administrator signs in and sees the Configuration Center", async ({ page }) => {
  const TENANT = await newTenant("Console");
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);
  const header = page.getByRole("banner");
  await expect(header).toContainText(TENANT.name);
  await expect(header).toContainText(TENANT.admin);
  await expect(page.getByRole("navigation", { name: "Breadcrumb" })).toHaveText(
    /Configuration Center.*Access Configuration.*Channel Configuration/,
  );
  await expect(page.getByRole("heading", { name: "Channel Configuration", level: 1 })).toBeVisible();
  await axe(page);

  const nav = page.getByRole("navigation", { name: "Main" });
  for (const [link, path] of [
    ["Certificates", "/config/certificates"],
    ["OUs", "/config/ous"],
    ["Skill Queues", "/config/skill-queues"],
    ["Service Time", "/config/service-time"],
    ["Export Tasks", "/config/exports"],
    ["Channel Configuration", "/config/channels"],
  ]) {
    await nav.getByRole("link", { name: link, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path}$`));
    await expect(page.getByRole("heading", { name: link, level: 1 })).toBeVisible();
    await expect(nav.getByRole("link", { name: link, exact: true })).toHaveAttribute("aria-current", "page");
    await axe(page);
  }
});

test("the tenant administrator builds an OU tree and a skill queue", async ({ page }) => {
  expectRejectedCalls(page, 422);
  const TENANT = await newTenant("Org");
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "OUs" }).click();
  await expect(page.getByText("No OUs yet")).toBeVisible();
  await axe(page);

  await page.getByRole("button", { name: "Create OU" }).click();
  await expect(page.locator("#name-error")).toHaveText("Enter the OU name.");
  await page.getByLabel("OU name").fill("Sales");
  await page.getByRole("button", { name: "Create OU" }).click();
  await expect(page.getByRole("row", { name: /^Sales/ })).toBeVisible();
  await page.getByLabel("OU name").fill("EMEA");
  await page.getByLabel("Parent OU").selectOption({ label: "Sales" });
  await page.getByRole("button", { name: "Create OU" }).click();
  await expect(page.getByRole("cell", { name: "Sales / EMEA", exact: true })).toBeVisible();
  await axe(page);
  // a delete asks first; Cancel keeps the row and brings the button back
  await page.getByRole("button", { name: "Delete Sales", exact: true }).click();
  const confirmation = page.getByRole("group", { name: "Confirm: Delete Sales" });
  await expect(confirmation).toContainText("Delete Sales?");
  // focus moves to the safe answer, and back to the button after it
  await expect(confirmation.getByRole("button", { name: "Cancel" })).toBeFocused();
  await confirmation.getByRole("button", { name: "Cancel" }).click();
  await expect(confirmation).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Delete Sales", exact: true })).toBeFocused();
  await expect(page.getByRole("cell", { name: "Sales / EMEA", exact: true })).toBeVisible();
  // a parent with sub-OUs stays, with the reason shown
  await confirmDelete(page, "Delete Sales");
  await expect(page.getByRole("alert").filter({ hasText: "has sub-OUs" })).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Skill Queues" }).click();
  await expect(page.getByText("No skill queues yet")).toBeVisible();
  await page.getByLabel("Skill queue name").fill("WhatsApp Care");
  await page.getByLabel("Access code").fill("10 086");
  await page.getByRole("button", { name: "Create skill queue" }).click();
  await expect(page.locator("#access_code-error")).toContainText("letters and digits");
  await expect(page.getByLabel("Skill queue name")).toHaveValue("WhatsApp Care");
  await page.getByLabel("Access code").fill("10086");
  await page.getByRole("button", { name: "Create skill queue" }).click();
  await expect(page.getByRole("row", { name: /WhatsApp Care/ })).toContainText("10086");
  await axe(page);
});

test("the tenant administrator uploads certificates", async ({ page }) => {
  expectRejectedCalls(page, 422);
  const fixtures = path.join(__dirname, "..", "..", "server", "tests", "fixtures");
  const TENANT = await newTenant("Certs");
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Certificates" }).click();
  await expect(page.getByText("No certificates yet")).toBeVisible();
  await axe(page);

  // not a certificate: refused with the reason, the name stays
  await page.getByLabel("Certificate name").fill("Infobip API");
  await page.getByLabel("Kind").selectOption({ label: "Authentication certificate" });
  await page.getByLabel("Certificate file").setInputFiles(path.join(fixtures, "not-a-cert.txt"));
  await page.getByRole("button", { name: "Upload" }).click();
  await expect(page.locator("#cert-file-error")).toContainText("not a certificate or keystore");
  await expect(page.getByLabel("Certificate name")).toHaveValue("Infobip API");

  await page.getByLabel("Certificate file").setInputFiles(path.join(fixtures, "infobip.pem"));
  await page.getByRole("button", { name: "Upload" }).click();
  const row = page.getByRole("row", { name: /Infobip API/ });
  await expect(row).toContainText("Authentication certificate");
  await expect(row).toContainText("CN=api.infobip.example");
  await expect(row).toContainText("2036-11-22");
  await expect(row).toContainText("A2:5F:60:1F:40:7E:3D:CA");
  await expect(page.getByLabel("Certificate name")).toHaveValue("");

  await page.getByLabel("Certificate name").fill("Graph trust");
  await page.getByLabel("Kind").selectOption({ label: "Trust certificate" });
  await page.getByLabel("Certificate file").setInputFiles(path.join(fixtures, "infobip.der"));
  await page.getByRole("button", { name: "Upload" }).click();
  await expect(page.getByRole("row", { name: /Graph trust/ })).toContainText("Trust certificate");
  await axe(page);

  await confirmDelete(page, "Delete Graph trust");
  await expect(page.getByRole("row", { name: /Graph trust/ })).toHaveCount(0);
});

test("the tenant administrator sets workdays and non-working dates", async ({ page }) => {
  expectRejectedCalls(page, 422);
  const TENANT = await newTenant("Hours");
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Service Time" }).click();
  await expect(page.getByLabel("Monday")).toBeChecked();
  await expect(page.getByLabel("Saturday")).not.toBeChecked();
  await axe(page);

  await page.getByLabel("Saturday").check();
  await page.getByRole("button", { name: "Save workdays" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Workdays saved." })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Saturday")).toBeChecked();

  await page.getByLabel("Date", { exact: true }).fill("2026-12-25");
  await page.getByLabel("Name", { exact: true }).fill("Christmas");
  await page.getByRole("button", { name: "Add date" }).click();
  await expect(page.getByRole("row", { name: /2026-12-25/ })).toContainText("Christmas");
  await page.getByLabel("Date", { exact: true }).fill("2026-12-25");
  await page.getByRole("button", { name: "Add date" }).click();
  await expect(page.locator("#date-error")).toHaveText("2026-12-25 is already a non-working date.");
  await axe(page);
  await confirmDelete(page, "Remove 2026-12-25");
  await expect(page.getByText("No non-working dates yet.")).toBeVisible();
});

test("a wrong password shows the error and keeps the username", async ({ page }) => {
  expectRejectedCalls(page, 401);
  const TENANT = await newTenant("Wrong");
  await signIn(page, TENANT.admin, "not-the-password");
  await expect(page.getByRole("alert").filter({ hasText: "Invalid username or password." })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByLabel("Username")).toHaveValue(TENANT.admin);
  await axe(page);
});

test("signing out ends the session", async ({ page }) => {
  const TENANT = await newTenant("Signout");
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/config/ous");
  await expect(page).toHaveURL(/\/login\?next=\/config\/ous$/);
  // and signing in again returns to where the person was going
  await hydrated(page);
  await page.getByLabel("Username").fill(TENANT.admin);
  await page.getByLabel("Password").fill(TENANT.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/config\/ous$/);
});

test("a tenant administrator opening the system pages is refused", async ({ page }) => {
  expectRejectedCalls(page, 403);
  const TENANT = await newTenant("Refused");
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  for (const path of ["/system/tenants", "/system/trustlist"]) {
    const response = await page.goto(path);
    expect(response?.status()).toBe(403);
    await hydrated(page);
    await expect(page.getByRole("heading", { name: "Access denied" })).toBeVisible();
    await expect(page.getByRole("table")).toHaveCount(0);
    await axe(page);
  }
});

test("the system administrator resets a password and disables a tenant space", async ({ browser }) => {
  const TENANT = await newTenant("Reset");
  const TENANT_RESET_PASSWORD = "reset-password-2";
  const rootPage = await (await browser.newContext()).newPage();
  const tenantPage = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  watch(rootPage, errors);
  watch(tenantPage, errors);
  expectRejectedCalls(tenantPage, 401);

  await signIn(tenantPage, TENANT.admin, TENANT.password);
  await expect(tenantPage).toHaveURL(/\/config\/channels$/);

  await signIn(rootPage, ROOT.username, ROOT.password);
  await expect(rootPage).toHaveURL(/\/system\/tenants$/);
  await hydrated(rootPage);
  await rootPage.getByLabel("Tenant administrator").selectOption({ label: `${TENANT.admin} — ${TENANT.name}` });
  await rootPage.getByLabel("New password").fill(TENANT_RESET_PASSWORD);
  await rootPage.getByRole("button", { name: "Reset password" }).click();
  await expect(rootPage.getByRole("status").filter({ hasText: "Password reset" })).toBeVisible();

  // the administrator's open session has ended
  await tenantPage.goto("/config/certificates");
  await expect(tenantPage).toHaveURL(/\/login\?next=/);
  await signIn(tenantPage, TENANT.admin, TENANT_RESET_PASSWORD);
  await expect(tenantPage).toHaveURL(/\/config\/channels$/);

  await rootPage.getByRole("button", { name: `Disable ${TENANT.name}` }).click();
  await expect(rootPage.getByRole("row", { name: new RegExp(TENANT.name) })).toContainText("Disabled");
  await tenantPage.goto("/config/ous");
  await expect(tenantPage).toHaveURL(/\/login\?next=/);
  await signIn(tenantPage, TENANT.admin, TENANT_RESET_PASSWORD);
  await expect(tenantPage.getByRole("alert").filter({ hasText: "Invalid username or password." })).toBeVisible();

  await rootPage.getByRole("button", { name: `Enable ${TENANT.name}` }).click();
  await expect(rootPage.getByRole("row", { name: new RegExp(TENANT.name) })).toContainText("Active");
  await signIn(tenantPage, TENANT.admin, TENANT_RESET_PASSWORD);
  await expect(tenantPage).toHaveURL(/\/config\/channels$/);
  expect(errors).toEqual([]);
});

test("pages read without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/login");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.getByLabel("Username")).toBeVisible();
  await context.close();
});
