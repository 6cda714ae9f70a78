// Real Chromium (Debian's /usr/bin/chromium) through playwright-core, never a downloaded browser.
// Each page records console errors, page errors and every API response body it saw.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const SCREENSHOT_DIR = resolve(import.meta.dir, "../../test-output/screenshots");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS, headless: true });
}

export type Tab = {
  context: BrowserContext;
  page: Page;
  /** console.error lines, uncaught page errors and CSP violations, in order. */
  problems: string[];
  /** Bodies of every /api response the page received (for secret-leak checks). */
  apiBodies: string[];
  /** Non-API requests that left 127.0.0.1 (must stay empty: no CDN). */
  foreignRequests: string[];
  close: () => Promise<void>;
};

/** bypassCSP: only for tabs that inject axe-core (its script tag is inline, which the CSP blocks). */
export async function openTab(browser: Browser, opts: { width?: number; height?: number; bypassCSP?: boolean } = {}): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 }, bypassCSP: opts.bypassCSP ?? false });
  const page = await context.newPage();
  // 30 s: Chromium shares the CPU with parallel test files, live servers and Docker
  page.setDefaultTimeout(30_000);
  const problems: string[] = [];
  const apiBodies: string[] = [];
  const foreignRequests: string[] = [];
  const pending: Promise<unknown>[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (url.protocol.startsWith("http") && url.hostname !== "127.0.0.1") foreignRequests.push(req.url());
  });
  page.on("response", (res) => {
    if (!new URL(res.url()).pathname.startsWith("/api/")) return;
    pending.push(res.text().then((t) => apiBodies.push(t), () => {}));
  });
  return {
    context,
    page,
    problems,
    apiBodies,
    foreignRequests,
    close: async () => {
      // a body whose request was cut off by a navigation may never settle: do not wait forever
      await Promise.race([Promise.allSettled(pending), Bun.sleep(2000)]);
      await context.close();
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9-]+/gi, "-")}.png`);
  await page.screenshot({ path: file, fullPage: true }).catch(() => {});
  return file;
}

/** Run a browser step; on failure save a screenshot named after it, then rethrow. */
export async function step<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    await screenshot(page, `FAILED-${name}`);
    throw err;
  }
}

/**
 * Console errors other than the browser's own "Failed to load resource … 4xx" lines, which Chrome
 * prints for every fetch answered 4xx (a 422 shown next to a field, a 401 after sign-out) and
 * which are expected API answers, not page faults.
 */
export const realProblems = (problems: string[]) =>
  problems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p));

/** Rebuild the dashboard bundle and src/web-assets.gen.ts from web/ (unless testing a built binary). */
export function ensureDashboardBuilt(): void {
  if (process.env.ANCLA_TEST_BIN) return;
  const root = resolve(import.meta.dir, "../..");
  const r = Bun.spawnSync([process.execPath, "scripts/gen-assets.ts"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`scripts/gen-assets.ts failed:\n${r.stderr.toString()}`);
}

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: string[] };

/** axe-core (the npm package's own file) over the current page: serious and critical violations. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: resolve(import.meta.dir, "../../node_modules/axe-core/axe.min.js") });
  const result = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe.run(document, {
      resultTypes: ["violations"],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}
