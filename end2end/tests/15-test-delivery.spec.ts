import { execFileSync, spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { test, expect, axe, open, watch, startOwnServer, freePort, ROOT } from "./fixtures";

// A server of its own whose public address is https://localhost:<port> on HAProxy, with a
// certificate from a CA made here (SWITCHBOARD_PUBLIC_CA names it): "Send a test delivery"
// goes out through that proxy and comes back in, as a provider's delivery would. People come
// in through a second HAProxy (another port, the same certificate), so the public one can be
// stopped while the page still works.

/** A CA and a certificate for localhost signed by it, made with openssl; the PEM paths. */
function makeCertificates(dir: string): { ca: string; front: string } {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Switchboard E2E Proxy CA");
  run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost");
  fs.writeFileSync(path.join(dir, "leaf.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n");
  run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext");
  fs.writeFileSync(path.join(dir, "front.pem"), fs.readFileSync(path.join(dir, "leaf.pem"), "utf8") + fs.readFileSync(path.join(dir, "leaf.key"), "utf8"));
  return { ca: path.join(dir, "ca.pem"), front: path.join(dir, "front.pem") };
}

/** HAProxy terminating TLS on 127.0.0.1:`front` and passing everything to `backend`. */
async function startHaproxy(dir: string, front: number, backend: string, pem: string): Promise<ChildProcess> {
  const cfg = path.join(dir, `haproxy-${front}.cfg`);
  fs.writeFileSync(cfg, [
    "defaults",
    "  mode http",
    "  timeout connect 5s",
    "  timeout client 30s",
    "  timeout server 30s",
    "frontend public",
    `  bind 127.0.0.1:${front} ssl crt ${pem}`,
    "  default_backend switchboard",
    "backend switchboard",
    `  server s1 ${backend}`,
    "",
  ].join("\n"));
  const child = spawn("haproxy", ["-db", "-f", cfg], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (d) => (log += d.toString()));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(front, "127.0.0.1", () => { s.destroy(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`HAProxy did not start:\n${log}`);
}

test("Send a test delivery goes through the proxy in front, and says when the proxy is gone", async ({ browser }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-proxy-"));
  const certs = makeCertificates(dir);
  const front = await freePort();
  const publicUrl = `https://localhost:${front}`;
  const own = await startOwnServer({ SWITCHBOARD_PUBLIC_URL: publicUrl, SWITCHBOARD_PUBLIC_CA: certs.ca });
  const backend = new URL(own.baseURL).host;
  let proxy: ChildProcess | undefined = await startHaproxy(dir, front, backend, certs.front);
  const peoplePort = await freePort();
  const people = await startHaproxy(dir, peoplePort, backend, certs.front);
  // the browser comes in through the people's entrance
  const context = await browser.newContext({ baseURL: `https://localhost:${peoplePort}`, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const errors: string[] = [];
  watch(page, errors);
  try {
    // first run: the system administrator, a tenant space with a channel
    const setup = new URL(own.setupLink);
    await open(page, setup.pathname + setup.search);
    await page.getByLabel("Username").fill(ROOT.username);
    await page.getByLabel("Password", { exact: true }).fill(ROOT.password);
    await page.getByLabel("Confirm password").fill(ROOT.password);
    await page.getByRole("button", { name: "Create system administrator" }).click();
    await expect(page).toHaveURL(/\/system\/tenants$/);
    const api = page.request;
    const ok = async (r: Promise<import("@playwright/test").APIResponse>) => {
      const answer = await r;
      expect(answer.status(), await answer.text()).toBe(200);
      return answer;
    };
    await ok(api.post("/api/add_trust_prefix", { form: { prefix: "https://api.infobip.com", scope: "global" } }));
    await ok(api.post("/api/create_tenant", { form: { name: "Proxied", admin_username: "proxied-admin", admin_password: "proxied-password" } }));
    await ok(api.post("/api/logout"));
    await open(page, "/login");
    await page.getByLabel("Username").fill("proxied-admin");
    await page.getByLabel("Password").fill("proxied-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/config\/channels$/);
    const queue = await (await ok(api.post("/api/create_skill_queue", { form: { name: "Care", access_code: "1" } }))).json();
    const created = await ok(api.post("/api/create_channel", {
      data: {
        draft: {
          provider: "infobip", name: "wa_proxied", skill_queue_id: String(queue), phone_number: "+4915112345678",
          username: "u", password: "p", base_url: "https://api.infobip.com", account_key: "k",
          webhook_password: "infobip-hook-1",
          workday: [{ start: "09:00", end: "18:00" }], non_workday: [{ start: "09:00", end: "18:00" }],
        },
      },
    }));
    const id = Number(await created.json());

    // through HAProxy and its TLS: both URLs received and accepted
    await open(page, `/config/channels/${id}/integration`);
    const panel = page.getByRole("region", { name: "Send a test delivery" });
    await panel.getByRole("button", { name: "Send a test delivery" }).click();
    await expect(panel.locator(".test-result.ok")).toHaveCount(2);
    await expect(panel.locator(".test-result.ok").first()).toContainText("Received · url used to send message to agent");
    await expect(panel.locator(".test-result.ok").first()).toContainText("Received and accepted");
    await axe(page);
    await page.screenshot({ path: test.info().outputPath("test-delivery-received.png"), fullPage: true });

    // the proxy is gone: the panel says where it stopped
    proxy.kill("SIGTERM");
    await new Promise((r) => proxy!.once("exit", r));
    proxy = undefined;
    await panel.getByRole("button", { name: "Send a test delivery" }).click();
    await expect(panel.locator(".test-result.failed")).toHaveCount(2);
    await expect(panel.locator(".test-result.failed").first()).toContainText(`Nothing answers at the public address localhost:${front}`);

    // Activity marks them as test deliveries; nothing was counted as received
    proxy = await startHaproxy(dir, front, new URL(own.baseURL).host, certs.front);
    await open(page, `/config/channels/${id}/activity`);
    const tests = page.getByRole("region", { name: "Test deliveries" });
    await expect(tests.getByRole("listitem")).toHaveCount(4);
    await expect(tests).toContainText("Test delivery");
    await expect(tests).toContainText("Received and accepted");
    await expect(tests).toContainText("Nothing answers at the public address");
    await expect(page.getByText("Nothing received yet")).toBeVisible();
    await axe(page);
    expect(errors, "page errors and console errors").toEqual([]);
  } finally {
    await context.close();
    if (proxy) {
      proxy.kill("SIGTERM");
      await new Promise((r) => proxy!.once("exit", r));
    }
    people.kill("SIGTERM");
    await new Promise((r) => people.once("exit", r));
    await own.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
