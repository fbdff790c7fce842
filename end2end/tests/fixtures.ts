import { test as base, expect, Page, request, APIRequestContext } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const allowed = new WeakMap<Page, Set<number>>();

/**
 * Declares that this test makes the server answer a call with these 4xx statuses on purpose
 * (a rejected form answers 422, a wrong password 401). Chromium logs every such answer as
 * "Failed to load resource"; only those statuses are then not counted as console errors.
 */
export function expectRejectedCalls(page: Page, ...statuses: number[]) {
  const set = allowed.get(page) ?? new Set<number>();
  statuses.filter((s) => s >= 400 && s < 500).forEach((s) => set.add(s));
  allowed.set(page, set);
}

/** Collects page errors and console errors of a page. */
export function watch(page: Page, errors: string[]) {
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const status = /the server responded with a status of (\d{3})/.exec(m.text());
    if (status && allowed.get(page)?.has(Number(status[1]))) return;
    errors.push(`console: ${m.text()} (${m.location().url})`);
  });
}

/** Every test fails if a page threw or logged a console error (hydration panics show up here). */
export const test = base.extend<{ errors: string[] }>({
  errors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      watch(page, errors);
      await use(errors);
      expect(errors, "page errors and console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** The system administrator, made by global-setup.ts before any spec runs. */
export const ROOT = { username: "root", password: "root-password-1" };
export const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:3210";

export type Tenant = { id: number; name: string; admin: string; password: string };

let counter = 0;
/** A suffix no other spec file (or run on the same database) uses. */
export function unique(): string {
  counter += 1;
  return `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}${counter}`;
}

/** An API client signed in as `username`. */
export async function apiAs(username: string, password: string): Promise<APIRequestContext> {
  const api = await request.newContext({ baseURL: BASE_URL });
  const r = await api.post("/api/login", { form: { username, password } });
  expect(r.status(), `sign-in of ${username}`).toBe(200);
  return api;
}

/**
 * A tenant space of its own for one spec (or one test): every spec file makes its own tenant
 * and data, so one failure stays one failure and the files run in any order.
 */
export async function newTenant(label: string): Promise<Tenant> {
  const suffix = unique();
  const name = `${label} ${suffix}`;
  const admin = `${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${suffix}`;
  const password = `${admin}-pw`;
  const root = await apiAs(ROOT.username, ROOT.password);
  const r = await root.post("/api/create_tenant", { form: { name, admin_username: admin, admin_password: password } });
  expect(r.status(), await r.text()).toBe(200);
  const id = Number(await r.json());
  await root.dispose();
  return { id, name, admin, password };
}

/** Trustlist prefixes for this tenant only (global ones would be shared by every spec). */
export async function trust(tenant: Tenant, prefixes: string[]) {
  const root = await apiAs(ROOT.username, ROOT.password);
  for (const prefix of prefixes) {
    const r = await root.post("/api/add_trust_prefix", { form: { prefix, scope: String(tenant.id) } });
    expect(r.status(), await r.text()).toBe(200);
  }
  await root.dispose();
}

export type Seeded = { queue?: string; ou?: string; cert?: string };

/**
 * The tenant's skill queue "WhatsApp Care" (10086), OU "Sales" and authentication certificate
 * "Infobip API", made through the API as its administrator.
 */
export async function seedTenant(tenant: Tenant, what: { queue?: boolean; ou?: boolean; cert?: boolean }): Promise<Seeded> {
  const api = await apiAs(tenant.admin, tenant.password);
  const out: Seeded = {};
  if (what.queue) {
    const r = await api.post("/api/create_skill_queue", { form: { name: "WhatsApp Care", access_code: "10086" } });
    expect(r.status(), await r.text()).toBe(200);
    out.queue = String(await r.json());
  }
  if (what.ou) {
    const r = await api.post("/api/create_ou", { form: { name: "Sales", parent_id: "" } });
    expect(r.status(), await r.text()).toBe(200);
    out.ou = String(await r.json());
  }
  if (what.cert) {
    const file = fs.readFileSync(path.join(__dirname, "..", "..", "server", "tests", "fixtures", "infobip.pem"));
    const r = await api.post("/api/upload_certificate", {
      multipart: { name: "Infobip API", kind: "authentication", file: { name: "infobip.pem", mimeType: "application/x-pem-file", buffer: file } },
    });
    expect(r.status(), await r.text()).toBe(200);
    out.cert = String(await r.json());
  }
  await api.dispose();
  return out;
}

/** Creates a channel as the tenant administrator; answers its id. */
export async function createChannel(tenant: Tenant, draft: Record<string, unknown>): Promise<number> {
  const api = await apiAs(tenant.admin, tenant.password);
  const r = await api.post("/api/create_channel", {
    data: {
      draft: {
        workday: [{ start: "09:00", end: "18:00" }],
        non_workday: [{ start: "09:00", end: "18:00" }],
        ...draft,
      },
    },
  });
  expect(r.status(), await r.text()).toBe(200);
  const id = Number(await r.json());
  await api.dispose();
  return id;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export type OwnServer = { baseURL: string; setupLink: string; stop: () => Promise<void> };

/**
 * A server of its own on a fresh database, for what only a fresh installation shows (the
 * first-run setup link), or what needs its own settings (`env`, e.g. a public address behind
 * a proxy).
 */
export async function startOwnServer(env: Record<string, string> = {}): Promise<OwnServer> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-e2e-"));
  const baseURL = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.env.SWITCHBOARD_BIN!, ["serve"], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dir}/own.db`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      SWITCHBOARD_PUBLIC_URL: baseURL,
      SWITCHBOARD_MASTER_KEY: "",
      // no load balancer in front of it: nothing to drain when the test stops it
      SWITCHBOARD_DRAIN_SECS: "0",
      RUST_LOG: "info",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr!.on("data", (d) => (log += d.toString()));
  const deadline = Date.now() + 30_000;
  let setupLink = "";
  while (Date.now() < deadline) {
    const m = /(http\S*\/setup\?token=[0-9a-f]+)/.exec(log);
    if (m) {
      try {
        const r = await fetch(`${baseURL}/readyz`);
        if (r.status === 200) {
          setupLink = m[1];
          break;
        }
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(setupLink, `the own server did not start:\n${log}`).not.toBe("");
  return {
    baseURL,
    setupLink,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the page has hydrated, so forms run through the app rather than a plain post. */
export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
}

export async function open(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

/** No serious or critical accessibility violations on the page as it is now. */
export async function axe(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    `axe violations on ${page.url()}`,
  ).toEqual([]);
}

export async function signIn(page: Page, username: string, password: string) {
  await open(page, "/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Deletes (or removes) a row through its button and the confirmation that replaces it:
 * `label` is the button's accessible name ("Delete Sales"), its first word the verb. */
export async function confirmDelete(page: Page, label: string) {
  await page.getByRole("button", { name: label, exact: true }).click();
  const verb = label.split(" ")[0];
  await page.getByRole("group", { name: `Confirm: ${label}` }).getByRole("button", { name: verb, exact: true }).click();
}

/** The fake provider of `server/examples/fake_provider.rs` (built by run.sh), over real HTTPS on
 * 127.0.0.1: what it printed when it started (where it listens, its CA, its credentials). */
export type FakeProvider = {
  base: string;
  ca_pem: string;
  twilio: [string, string, string];
  cloud: [string, string];
  /** With `front`: a TLS front to this server (its own CA), as a reverse proxy would be. */
  front_base: string | null;
  front_ca_pem: string | null;
};

/** Starts the fake provider (with `front`, also a TLS front to the server under test); `stop` ends it. */
export async function startFakeProvider(front = false): Promise<{ fake: FakeProvider; stop: () => void }> {
  const bin = process.env.FAKE_PROVIDER_BIN;
  if (!bin) throw new Error("run the suite with end2end/run.sh (FAKE_PROVIDER_BIN)");
  const env = { ...process.env };
  if (front) env.FAKE_FRONT_TO = new URL(BASE_URL).host;
  const child: ChildProcess = spawn(bin, [], { stdio: ["ignore", "pipe", "inherit"], env });
  const line = await new Promise<string>((resolve, reject) => {
    let buffer = "";
    child.stdout!.on("data", (d) => {
      buffer += d.toString();
      const end = buffer.indexOf("\n");
      if (end >= 0) resolve(buffer.slice(0, end));
    });
    child.on("exit", () => reject(new Error("the fake provider exited")));
  });
  return { fake: JSON.parse(line), stop: () => child.kill() };
}
