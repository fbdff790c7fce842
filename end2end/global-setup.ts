import { execFileSync } from "child_process";

// The system administrator every spec signs in as, made with the CLI on the server's database
// before any spec runs (each spec then makes its own tenant spaces and data).
export default async function globalSetup() {
  const bin = process.env.SWITCHBOARD_BIN;
  const url = process.env.E2E_DATABASE_URL;
  if (!bin || !url) throw new Error("run the suite with end2end/run.sh (SWITCHBOARD_BIN, E2E_DATABASE_URL)");
  execFileSync(bin, ["create-admin", "--username", "root"], {
    input: "root-password-1\n",
    env: { ...process.env, DATABASE_URL: url, RUST_LOG: "error" },
  });
}
