import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Locator } from "playwright-core";

/** Debian's chromium package; `.ci/run` installs it. No browser is downloaded. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/** Screenshots of browser tests, kept by CI as artefacts (gitignored). */
export const ARTIFACTS_DIR = resolve(__dirname, "../../artifacts/browser");

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Whether loading `url` stays on this machine; blob: and data: URLs are not loads from anywhere. */
export function isLocalUrl(url: string): boolean {
  if (url.startsWith("data:") || url.startsWith("about:")) return true;
  const target = new URL(url.startsWith("blob:") ? url.slice("blob:".length) : url);
  return LOCAL_HOSTS.has(target.hostname);
}

export interface RecordingBrowser {
  browser: Browser;
  context: BrowserContext;
  /** Every URL the pages asked for (HTTP, workers and WebSocket), in order. */
  requested: string[];
  /** Console messages in which the browser reports something its Content-Security-Policy refused. */
  cspViolations: string[];
  close(): Promise<void>;
}

/**
 * Headless Debian chromium with every request and WebSocket recorded, so a
 * test can prove the pages load nothing from outside this machine. Fails
 * loudly when chromium is missing rather than skipping.
 */
export async function launchRecordingBrowser(executablePath = CHROMIUM_PATH): Promise<RecordingBrowser> {
  if (!existsSync(executablePath)) {
    throw new Error(`Browser tests need chromium at ${executablePath}: install it with 'apt-get install -y chromium' (.ci/run does)`);
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const requested: string[] = [];
  const cspViolations: string[] = [];
  context.on("request", (request) => requested.push(request.url()));
  context.on("page", (page) => {
    page.on("websocket", (socket) => requested.push(socket.url()));
    page.on("console", (message) => {
      if (/Content[ -]Security[ -]Policy/i.test(message.text())) cspViolations.push(`${page.url()}: ${message.text()}`);
    });
  });
  return { browser, context, requested, cspViolations, close: () => browser.close() };
}

/** Polls a locator's text until `accept` holds (bounded); returns the text. */
export async function textUntil(locator: Locator, accept: (text: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  for (;;) {
    // Monaco renders spaces as no-break spaces.
    text = (await locator.count()) ? (await locator.first().innerText()).replace(/\u00a0/g, " ") : "";
    if (accept(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last text: ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
