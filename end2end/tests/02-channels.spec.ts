import { test, expect, axe, open, hydrated, signIn, watch, expectRejectedCalls, newTenant, trust, seedTenant, createChannel, ROOT, Tenant } from "./fixtures";
import { Page } from "@playwright/test";

// Every test makes its own tenant space, trustlist prefixes, skill queue, OU and certificate.

const PREFIXES = [
  "https://api.infobip.com",
  "https://graph.facebook.com",
  "https://api.twilio.com",
  "https://bsp.itau.example",
  "https://aicc.example.com:8443",
];

/** A tenant space ready for channels: its prefixes, "WhatsApp Care", "Sales", "Infobip API". */
async function channelTenant(label: string): Promise<{ tenant: Tenant; queue: string }> {
  const tenant = await newTenant(label);
  await trust(tenant, PREFIXES);
  const seeded = await seedTenant(tenant, { queue: true, ou: true, cert: true });
  return { tenant, queue: seeded.queue! };
}

/** The infobip channel the other tests find by name. */
function infobipDraft(queue: string) {
  return {
    provider: "infobip", name: "wa_e2e_infobip", skill_queue_id: queue, phone_number: "+4915112345678",
    username: "acme", password: "infobip-secret", base_url: "https://api.infobip.com/whatsapp",
    account_key: "acc-key-1", webhook_password: "hook-secret-1",
  };
}

type Provider = { name: string; fill: (page: Page) => Promise<void> };

const PROVIDERS: Provider[] = [
  {
    name: "wa_e2e_infobip",
    fill: async (page) => {
      await page.getByLabel("Business Solution Provider").selectOption("infobip");
      await page.getByLabel("Phone Number").fill("+4915112345678");
      await page.getByLabel("UserName").fill("acme");
      await page.getByLabel("Password", { exact: true }).fill("infobip-secret");
      await page.getByLabel("BaseUrl").fill("https://api.infobip.com/whatsapp");
      await page.getByLabel("AccountKey").fill("acc-key-1");
      await page.getByLabel("Webhook Password").fill("hook-secret-1");
      await page.getByLabel("Authentication Certificate").selectOption({ label: "Infobip API" });
    },
  },
  {
    name: "wa_e2e_other_basic",
    fill: async (page) => {
      await page.getByLabel("Business Solution Provider").selectOption("other");
      await page.getByLabel("Verification Method").selectOption("basic");
      await page.getByLabel("Phone Number").fill("5511987654321");
      await page.getByLabel("UserName").fill("itau");
      await page.getByLabel("Password", { exact: true }).fill("itau-secret");
      await page.getByLabel("BaseUrl").fill("https://bsp.itau.example/api");
      await page.getByLabel("Authentication Key").fill("auth-key-1");
      await page.getByLabel("Webhook Password").fill("hook-secret-2");
    },
  },
  {
    name: "wa_e2e_other_oauth",
    fill: async (page) => {
      await page.getByLabel("Business Solution Provider").selectOption("other");
      await page.getByLabel("Verification Method").selectOption("oAuth");
      await expect(page.getByLabel("Phone Number")).toHaveCount(0);
      await expect(page.getByLabel("Authentication Key")).toHaveCount(0);
      await page.getByLabel("UserName").fill("app-key-123");
      await page.getByLabel("Password", { exact: true }).fill("app-secret-1");
      await page.getByLabel("BaseUrl").fill("https://aicc.example.com:8443/apiaccess/rest/ccmessaging");
      await page.getByLabel("Webhook Password").fill("hook-secret-3");
    },
  },
  {
    name: "wa_e2e_cloud",
    fill: async (page) => {
      await page.getByLabel("Business Solution Provider").selectOption("cloud-api");
      await page.getByLabel("APP Key").fill("1234567890");
      await page.getByLabel("APP Secret").fill("app_secret_123");
      await page.getByLabel("Phone Number").fill("15550001111");
      await page.getByLabel("BaseUrl").fill("https://graph.facebook.com/v19.0");
      await page.getByLabel("Access Token").fill("EAAB-token");
      await page.getByLabel("Token Validity Period").fill("2030-01-31");
    },
  },
  {
    name: "wa_e2e_twilio",
    fill: async (page) => {
      await page.getByLabel("Business Solution Provider").selectOption("twilio");
      await page.getByLabel("Phone Number").fill("+14155238886");
      await page.getByLabel("API Key SID").fill("SK" + "a1".repeat(16));
      await page.getByLabel("API Key Secret").fill("twilio-secret");
      await page.getByLabel("BaseUrl").fill("https://api.twilio.com/2010-04-01");
      await page.getByLabel("Account SID").fill("AC" + "0f".repeat(16));
      await page.getByLabel("Webhook User").fill("aicc_hook");
      await page.getByLabel("Webhook Password").fill("S3cret!pass");
    },
  },
];

async function copiesToClipboard(page: Page, label: string) {
  const value = await page.getByLabel(label, { exact: true }).inputValue();
  await page.getByRole("button", { name: `Copy ${label}` }).click();
  await expect(page.getByRole("status").filter({ hasText: "Copied" }).first()).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
  return value;
}

test("the tenant administrator configures one channel for each provider", async ({ page, context, baseURL }) => {
  test.setTimeout(120_000);
  const { tenant: TENANT } = await channelTenant("Channels");
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await hydrated(page);
  await expect(page.getByText("No channels yet")).toBeVisible();
  await axe(page);

  for (const provider of PROVIDERS) {
    await page.getByRole("link", { name: "Newly created" }).click();
    await expect(page).toHaveURL(/\/config\/channels\/new$/);
    await expect(page.getByRole("heading", { name: "Configure Channel" })).toBeVisible();
    await provider.fill(page);
    await page.getByLabel("Channel Name").fill(provider.name);
    await page.getByLabel("Skill Queue", { exact: true }).selectOption({ label: "WhatsApp Care (10086)" });
    await page.getByLabel("OU Configuration").selectOption({ label: "Sales" });
    if (provider.name === "wa_e2e_infobip") await axe(page);
    await page.getByRole("button", { name: "The next step" }).click();
    await expect(page).toHaveURL(/\/config\/channels\/\d+\/integration$/);
    await expect(page.getByRole("heading", { name: "Channel Integration" })).toBeVisible();
    if (provider.name === "wa_e2e_cloud") {
      const url = await copiesToClipboard(page, "URL");
      expect(url).toMatch(/\/social\/on\/whatsapp\/cloud-api\/[0-9a-f]{32}$/);
      const code = await copiesToClipboard(page, "Verification Code");
      expect(code).toMatch(/^[0-9a-f]{32}$/);
      await expect(page.getByText("scenario key")).toHaveCount(0);
    } else {
      const kind = provider.name.includes("other") ? "other" : provider.name.includes("twilio") ? "twilio" : "infobip";
      const message = await copiesToClipboard(page, "url used to send message to agent");
      expect(message).toMatch(new RegExp(`/social/on/whatsapp/${kind}/message/[0-9a-f]{32}$`));
      const report = await copiesToClipboard(page, "url used to send report to agent");
      expect(report).toMatch(new RegExp(`/social/on/whatsapp/${kind}/report/[0-9a-f]{32}$`));
      await expect(page.getByText("scenario key: NO")).toBeVisible();
      await page.getByRole("button", { name: "Generate" }).click();
      await expect(page.getByText("scenario key: YES")).toBeVisible();
      expect(await page.getByLabel("Scenario key", { exact: true }).inputValue()).toMatch(/^[0-9a-f]{32}$/);
    }
    await axe(page);
    await page.getByRole("link", { name: "Back to the channel list" }).click();
    await expect(page.getByRole("row", { name: new RegExp(provider.name) })).toBeVisible();
  }

  // selection is kept across searches (Export will act on it)
  await page.getByLabel("Select wa_e2e_cloud").check();
  await page.getByLabel("Select wa_e2e_twilio").check();
  await expect(page.getByText("2 selected")).toBeVisible();

  // search and filter
  await page.getByLabel("Search by name").fill("other");
  await expect(page.getByRole("row", { name: /wa_e2e_/ })).toHaveCount(2);
  await page.getByLabel("Search by name").fill("");
  await page.getByLabel("Business Solution Provider").selectOption("cloud-api");
  await expect(page.getByRole("row", { name: /wa_e2e_/ })).toHaveCount(1);
  await expect(page.getByRole("row", { name: /wa_e2e_cloud/ })).toContainText("NO");
  await page.getByLabel("Business Solution Provider").selectOption("");
  await expect(page.getByRole("row", { name: /wa_e2e_/ })).toHaveCount(5);
  await expect(page.getByRole("row", { name: /wa_e2e_infobip/ })).toContainText("YES");
  await expect(page.getByText("2 selected")).toBeVisible();
  await page.getByLabel("Select all channels on this page").check();
  await expect(page.getByText("5 selected")).toBeVisible();
  await page.getByRole("button", { name: "Clear selection" }).click();
  await expect(page.getByText("selected")).toHaveCount(0);
  await axe(page);

  // edit: the secrets stay when left empty
  await page.getByRole("link", { name: "Edit wa_e2e_infobip" }).click();
  await expect(page.getByRole("heading", { name: "Edit Channel" })).toBeVisible();
  await expect(page.getByLabel("Channel Name")).toHaveValue("wa_e2e_infobip");
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue("");
  await expect(page.getByLabel("Password", { exact: true })).toHaveAttribute("placeholder", "configured");
  await axe(page);
  await page.getByLabel("Non-Working Time Notification").fill("We are closed; an agent answers tomorrow.");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/config\/channels$/);
  await page.getByRole("link", { name: "Edit wa_e2e_infobip" }).click();
  await expect(page.getByLabel("Non-Working Time Notification")).toHaveValue("We are closed; an agent answers tomorrow.");
  await page.getByRole("link", { name: "Channel Configuration", exact: true }).click();

  // delete asks first
  await page.getByRole("button", { name: "Delete wa_e2e_twilio" }).click();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("row", { name: /wa_e2e_twilio/ })).toBeVisible();
  await page.getByRole("button", { name: "Delete wa_e2e_twilio" }).click();
  await page.getByRole("button", { name: "Delete channel" }).click();
  await expect(page.getByRole("row", { name: /wa_e2e_twilio/ })).toHaveCount(0);
  await expect(page.getByRole("row", { name: /wa_e2e_/ })).toHaveCount(4);
});

test("invalid input gets a message next to each field and nothing typed is lost", async ({ page }) => {
  expectRejectedCalls(page, 422);
  const { tenant: TENANT, queue } = await channelTenant("Invalid");
  await createChannel(TENANT, infobipDraft(queue));
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  await open(page, "/config/channels/new");
  await page.getByRole("button", { name: "The next step" }).click();
  for (const [id, text] of [
    ["#ch-phone_number-error", "Enter the Phone Number."],
    ["#ch-username-error", "Enter the UserName."],
    ["#ch-password-error", "Enter the Password."],
    ["#ch-base_url-error", "Enter the BaseUrl."],
    ["#ch-name-error", "Enter a channel name."],
    ["#ch-skill_queue_id-error", "Choose a skill queue."],
  ]) {
    await expect(page.locator(id)).toHaveText(text);
  }
  await axe(page);

  await page.getByLabel("Phone Number").fill("12ab");
  await page.getByLabel("BaseUrl").fill("https://evil.example/api");
  await page.getByLabel("Channel Name").fill("1bad");
  await page.getByLabel("Connecting to the Intelligent Robot").check();
  await page.getByRole("button", { name: "New Workday segment" }).click();
  await page.getByLabel("Workday 2 start").fill("17:00");
  await page.getByLabel("Workday 2 end").fill("19:00");
  await page.getByRole("button", { name: "The next step" }).click();
  await expect(page.locator("#ch-phone_number-error")).toContainText("6 to 15 digits");
  await expect(page.locator("#ch-base_url-error")).toContainText("not on the address trustlist");
  await expect(page.locator("#ch-name-error")).toHaveText("The channel name must start with a letter or '_'.");
  await expect(page.locator("#ch-robot_access_code-error")).toContainText("access code");
  await expect(page.locator("#ch-keywords-error")).toContainText("at least one keyword");
  await expect(page.getByText("Segment 2 (17:00-19:00) overlaps segment 1 (09:00-18:00).")).toBeVisible();
  // everything typed is still there
  await expect(page.getByLabel("Phone Number")).toHaveValue("12ab");
  await expect(page.getByLabel("BaseUrl")).toHaveValue("https://evil.example/api");
  await expect(page.getByLabel("Channel Name")).toHaveValue("1bad");
  await expect(page.getByLabel("Workday 2 start")).toHaveValue("17:00");

  // a rule only the server knows: the name is taken
  await page.getByLabel("Connecting to the Intelligent Robot").uncheck();
  await page.getByRole("button", { name: "Remove Workday segment 2" }).click();
  await page.getByLabel("Phone Number").fill("+4915112345678");
  await page.getByLabel("UserName").fill("acme");
  await page.getByLabel("Password", { exact: true }).fill("infobip-secret");
  await page.getByLabel("BaseUrl").fill("https://api.infobip.com/whatsapp");
  await page.getByLabel("AccountKey").fill("acc-key-1");
  await page.getByLabel("Webhook Password").fill("hook-secret-1");
  await page.getByLabel("Channel Name").fill("wa_e2e_infobip");
  await page.getByLabel("Skill Queue", { exact: true }).selectOption({ label: "WhatsApp Care (10086)" });
  await page.getByRole("button", { name: "The next step" }).click();
  await expect(page.locator("#ch-name-error")).toHaveText("A channel named 'wa_e2e_infobip' exists already.");
  await expect(page).toHaveURL(/\/config\/channels\/new$/);
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue("infobip-secret");
  await axe(page);
});

test("every page hydrates when it is loaded directly, with data on it", async ({ page, browser }) => {
  const { tenant: TENANT, queue } = await channelTenant("Hydrate");
  await createChannel(TENANT, infobipDraft(queue));
  await signIn(page, TENANT.admin, TENANT.password);
  await expect(page).toHaveURL(/\/config\/channels$/);
  const edit = await page.getByRole("link", { name: "Edit wa_e2e_infobip" }).getAttribute("href");
  const integration = await page.getByRole("link", { name: "Integration of wa_e2e_infobip" }).getAttribute("href");
  for (const path of [
    "/config/channels",
    "/config/channels/new",
    edit!,
    integration!,
    "/config/certificates",
    "/config/ous",
    "/config/skill-queues",
    "/config/service-time",
    "/config/exports",
  ]) {
    await open(page, path);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  }
  await axe(page);
  const root = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  watch(root, errors);
  await signIn(root, ROOT.username, ROOT.password);
  await expect(root).toHaveURL(/\/system\/tenants$/);
  for (const path of ["/system/tenants", "/system/trustlist"]) {
    await open(root, path);
    await expect(root.getByRole("heading", { level: 1 })).toBeVisible();
    await axe(root);
  }
  expect(errors).toEqual([]);
});
