import { execFileSync } from "child_process";
import { BrowserContext, CDPSession, Page } from "@playwright/test";
import { test, expect, unique, ROOT, apiAs, watch } from "../tests/fixtures";

// The first load on a laptop over a real network: each page loaded cold (a new browser context,
// so an empty cache) under Chromium's CPU throttling x4 and 10 Mbit/s with 40 ms latency. Prints
// the figures and fails past a budget. Run against the optimized, split, precompressed build
// (end2end/run.sh); skipped with SKIP_PERF=1.

const THROTTLE = { cpu: 4, latencyMs: 40, bitsPerSecond: 10_000_000 };
// Issue 12's budget, judged since issue 20 at the moment a page is ready (its own code has
// hydrated, not only the main module). Each page is loaded cold three times and judged by the
// median: a single throttled load on a shared 2-core machine varies by a few hundred
// milliseconds. Printed beside the figures: the floor (a cold renderer showing a plain-text
// answer under the same throttling) and the machine's speed (CALIBRATION).
const BUDGET = {
  loginTransferBytes: 250_000,
  loginHydratedMs: 1_000,
  listHydratedMs: 1_500,
};
const RUNS = 3;
// The same commit hydrated sign-in in 0.63-0.82 s on the machine where the budget was set and
// in 1.59 s on another of the same kind (c324b78): machines of this kind differ twice over. So
// the time budgets hold for a machine as fast as that first one, and scale with how much
// slower this one is, measured in the same run by a fixed piece of main-thread work under the
// same throttling (DOM, layout, JavaScript, JSON). That work took ~1,400 ms (median of 5) on
// the slower machine, so ~700 ms on the first: the reference. The bytes budget does not scale.
const REFERENCE_CALIBRATION_MS = 700;

type Figures = { transferBytes: number; requests: number; mainMs: number; hydratedMs: number; lcpMs: number };

/**
 * Times the page records itself: when the main module has hydrated the shell
 * (`data-main-hydrated` on <body>), when the page's own code has (`data-hydrated`: it is
 * ready; the budget is judged by it), and LCP.
 */
const RECORDER = () => {
  const w = window as unknown as { __mainAt?: number; __hydratedAt?: number; __lcp?: number };
  new MutationObserver(() => {
    if (w.__mainAt === undefined && document.body?.hasAttribute("data-main-hydrated")) {
      w.__mainAt = performance.now();
    }
    if (w.__hydratedAt === undefined && document.body?.hasAttribute("data-hydrated")) {
      w.__hydratedAt = performance.now();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated", "data-main-hydrated"] });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__lcp = e.startTime;
  }).observe({ type: "largest-contentful-paint", buffered: true });
};

/**
 * A fixed piece of main-thread work (the kinds a first load does: building DOM, layout,
 * JavaScript, JSON), timed in the page: how fast this machine is under the throttling.
 */
const CALIBRATION = () => {
  const t = performance.now();
  const root = document.createElement("div");
  document.body.appendChild(root);
  for (let i = 0; i < 3000; i++) {
    const p = document.createElement("p");
    p.textContent = "row " + i;
    root.appendChild(p);
  }
  root.getBoundingClientRect();
  let h = 0;
  for (let i = 0; i < 20_000_000; i++) h = (h * 31 + i) | 0;
  const data = JSON.stringify(Array.from({ length: 20000 }, (_, i) => ({ i, s: "x" + i })));
  (window as unknown as { __keep: unknown }).__keep = [h, JSON.parse(data).length];
  return performance.now() - t;
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
    const w = window as unknown as { __mainAt?: number; __hydratedAt?: number; __lcp?: number };
    return { mainMs: w.__mainAt ?? NaN, hydratedMs: w.__hydratedAt ?? NaN, lcpMs: w.__lcp ?? NaN };
  });
  return { transferBytes: wire.total(), requests: wire.count(), ...t };
}

async function coldPage(context: BrowserContext): Promise<Page> {
  await context.addInitScript(RECORDER);
  return context.newPage();
}

function report(name: string, f: Figures, wire: Wire, perRequest: boolean) {
  console.log(
    `${name}: ${(f.transferBytes / 1000).toFixed(1)} KB in ${f.requests} requests, ` +
      `main module hydrated ${f.mainMs.toFixed(0)} ms, page hydrated ${f.hydratedMs.toFixed(0)} ms, LCP ${f.lcpMs.toFixed(0)} ms`,
  );
  if (perRequest) wire.lines().forEach((l) => console.log(l));
}

/** Each figure's median over the runs. */
function median(runs: Figures[]): Figures {
  const mid = (pick: (f: Figures) => number) => {
    const sorted = runs.map(pick).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  return {
    transferBytes: mid((f) => f.transferBytes),
    requests: mid((f) => f.requests),
    mainMs: mid((f) => f.mainMs),
    hydratedMs: mid((f) => f.hydratedMs),
    lcpMs: mid((f) => f.lcpMs),
  };
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
  execFileSync(process.env.SWITCHBOARD_BIN!, ["seed-demo", "--tenant", tenant, "--channels", "100"], {
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: "error" },
  });

  // a page names the files every page needs in its headers, so they are fetched before the
  // <head> is parsed
  const head = await root.get("/login");
  const link = head.headers()["link"] ?? "";
  expect(link).toMatch(/\/pkg\/switchboard\.[\w-]+\.wasm>; rel=preload; as=fetch/);
  // the chunk loader, a static import of the main script, would otherwise be found only when
  // that script runs: a round trip after everything else
  expect(link).toMatch(/\/pkg\/__wasm_split\.[\w-]+\.js>; rel=modulepreload/);
  await root.dispose();

  // the floor: a cold renderer showing a plain-text answer (/healthz) under the same throttling
  const floors: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await throttled(page);
    await page.goto("/healthz");
    floors.push(await page.evaluate(() => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).loadEventEnd));
    await context.close();
  }
  const floorMs = floors.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
  console.log(`floor: /healthz loaded in ${floors.map((f) => f.toFixed(0)).join(", ")} ms (median ${floorMs.toFixed(0)} ms)`);
  const calibrations: number[] = [];
  for (let run = 1; run <= 5; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await throttled(page);
    await page.goto("/healthz");
    calibrations.push(await page.evaluate(CALIBRATION));
    await context.close();
  }
  const calibrationMs = calibrations.sort((a, b) => a - b)[2];
  const scale = Math.max(1, calibrationMs / REFERENCE_CALIBRATION_MS);
  console.log(
    `machine: the calibration took ${calibrations.map((c) => c.toFixed(0)).join(", ")} ms (median ${calibrationMs.toFixed(0)} ms, ` +
      `reference ${REFERENCE_CALIBRATION_MS} ms): time budgets x${scale.toFixed(2)}, ` +
      `/login ${(BUDGET.loginHydratedMs * scale).toFixed(0)} ms, /config/channels ${(BUDGET.listHydratedMs * scale).toFixed(0)} ms`,
  );

  // /login, cold (a new browser context each time: an empty cache)
  const logins: Figures[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const context = await browser.newContext();
    const page = await coldPage(context);
    watch(page, errors);
    const wire = await throttled(page);
    const figures = await load(page, wire, "/login");
    report(`/login, cold load ${run}`, figures, wire, run === 1);
    await expect(page.getByLabel("Username")).toBeEditable();
    logins.push(figures);
    await context.close();
  }

  // /config/channels with 100 channels, cold: signed in through the API first (no page load)
  const lists: Figures[] = [];
  let listContext: BrowserContext | undefined;
  let listPage: Page | undefined;
  let listWire: Wire | undefined;
  for (let run = 1; run <= RUNS; run++) {
    await listContext?.close();
    listContext = await browser.newContext();
    const signedIn = await listContext.request.post("/api/login", { form: { username: admin, password } });
    expect(signedIn.status()).toBe(200);
    listPage = await coldPage(listContext);
    watch(listPage, errors);
    listWire = await throttled(listPage);
    const figures = await load(listPage, listWire, "/config/channels");
    report(`/config/channels (100 channels, the first 20 shown), cold load ${run}`, figures, listWire, run === 1);
    await expect(listPage.getByText("100 channels")).toBeVisible();
    lists.push(figures);
  }
  if (!listContext || !listPage || !listWire) throw new Error("no list page loaded");
  const login = median(logins);
  const list = median(lists);
  console.log(`median of ${RUNS} (floor ${floorMs.toFixed(0)} ms): /login ${(login.transferBytes / 1000).toFixed(1)} KB, main module ${login.mainMs.toFixed(0)} ms, page hydrated ${login.hydratedMs.toFixed(0)} ms, LCP ${login.lcpMs.toFixed(0)} ms; ` +
    `/config/channels ${(list.transferBytes / 1000).toFixed(1)} KB, main module ${list.mainMs.toFixed(0)} ms, page hydrated ${list.hydratedMs.toFixed(0)} ms, LCP ${list.lcpMs.toFixed(0)} ms`);

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
  expect(login.hydratedMs, "/login ready (ms)").toBeLessThanOrEqual(BUDGET.loginHydratedMs * scale);
  expect(list.hydratedMs, "/config/channels ready (ms)").toBeLessThanOrEqual(BUDGET.listHydratedMs * scale);
});
