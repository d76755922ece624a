// What the browser tests run against: the real `warroom serve` (target/debug/warroom) on a
// free loopback port with a throwaway data directory, the real CLI for setup and for changes
// made "from the terminal", and Debian's Chromium driven by playwright-core.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, "..", "..");
export const BIN = process.env.WARROOM_BIN || join(ROOT, "target", "debug", "warroom");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const ARTIFACTS = join(ROOT, "e2e", "artifacts");
export const PASSWORD = "correct horse battery staple";

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    // The OS picks a free port; there is a short window before warroom binds it.
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** A running `warroom serve`; `stop()` kills it and removes its data. */
export class Warroom {
  static async start() {
    const root = mkdtempSync(join(tmpdir(), "warroom-e2e-"));
    const dataDir = join(root, "data");
    const logPath = join(root, "server.log");
    const log = openSync(logPath, "w");
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    const env = { ...process.env, RUST_LOG: "info" };
    // The developer's own database and token must never be the ones this suite uses.
    delete env.WARROOM_DATABASE_URL;
    delete env.WARROOM_TOKEN;
    const child = spawn(BIN, ["serve", "--listen", listen, "--data-dir", dataDir], {
      env,
      stdio: ["ignore", log, log],
    });
    const w = new Warroom(child, `http://${listen}`, root, dataDir, logPath);
    await w.#waitHealthy();
    return w;
  }

  constructor(child, url, root, dataDir, logPath) {
    this.child = child;
    this.url = url;
    this.root = root;
    this.dataDir = dataDir;
    this.logPath = logPath;
    this.exited = null;
    child.on("exit", (code, signal) => {
      this.exited = { code, signal };
    });
  }

  async #waitHealthy() {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.exited) {
        throw new Error(`warroom serve exited (${JSON.stringify(this.exited)}):\n${this.log()}`);
      }
      try {
        const r = await fetch(`${this.url}/health`);
        if (r.ok) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`warroom serve never became healthy:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  log() {
    try {
      return readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  /** Runs the CLI as the admin (the server's admin.token); returns stdout, throws on failure. */
  cli(args, input = "") {
    const env = { ...process.env, WARROOM_URL: this.url };
    delete env.WARROOM_TOKEN;
    const r = spawnSync(BIN, ["--data-dir", this.dataDir, ...args], { env, input, encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`warroom ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    return r.stdout;
  }

  /** A web UI account, password from stdin as an operator would give it. */
  createUser(name, role, { security = false } = {}) {
    const args = ["user", "create", name, "--role", role];
    if (security) args.push("--security");
    return this.cli(args, `${PASSWORD}\n`);
  }

  async stop() {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      // A server that does not finish shutting down in time is killed, so a hang in shutdown
      // cannot hold the suite forever.
      const force = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(force);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Headless Chromium; without a sandbox only when running as root, where Chromium refuses it. */
export async function launchBrowser() {
  const args = [];
  if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/** Logs `name` in through the login form; leaves the page on the dashboard. */
export async function logIn(page, url, name, password = PASSWORD) {
  await page.goto(`${url}/ui/login`);
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { level: 1, name: "Incidents" }).waitFor();
}

/** Saves a full-page screenshot as e2e/artifacts/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** After a failure: the page as the browser had it, as failed-NAME.png and .html. */
export async function keepFailure(page, name) {
  if (!page || page.isClosed()) return;
  const file = `failed-${name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}`;
  try {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `${file}.png`), fullPage: true });
    writeFileSync(join(ARTIFACTS, `${file}.html`), `<!-- ${page.url()} -->\n${await page.content()}`);
  } catch {
    // The failure itself is what matters; a page that cannot be captured adds nothing.
  }
}
