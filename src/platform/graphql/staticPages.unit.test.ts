import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { mountStaticPages, STATIC_PAGE_CSP } from "./staticPages";

let directory: string;
let server: Server;
let base: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "static-page-"));
  writeFileSync(join(directory, "index.html"), "<!doctype html><script type=module src=page.js></script>");
  writeFileSync(join(directory, "page.js"), "export {};");
  writeFileSync(join(directory, ".secret"), "hidden");
  const app = express();
  mountStaticPages(app, [{ path: "/board", directory, title: "Board" }]);
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(directory, { recursive: true });
});

it("serves the folder's index under the path, with a same-origin-only policy", async () => {
  const redirect = await fetch(`${base}/board`, { redirect: "manual" });
  expect(redirect.status).toBe(301);
  expect(redirect.headers.get("location")).toBe("/board/");

  const page = await fetch(`${base}/board/`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toMatch(/^text\/html/);
  expect(page.headers.get("content-security-policy")).toBe(STATIC_PAGE_CSP);
  expect(await page.text()).toContain("page.js");

  const script = await fetch(`${base}/board/page.js`);
  expect(script.headers.get("content-type")).toMatch(/^(text|application)\/javascript/);
  expect(script.headers.get("x-content-type-options")).toBe("nosniff");
});

it("serves no dotfiles and nothing outside the folder", async () => {
  expect((await fetch(`${base}/board/.secret`)).status).toBe(404);
  expect((await fetch(`${base}/board/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
  expect((await fetch(`${base}/board/missing.js`)).status).toBe(404);
});

it.each([
  ["/graphql", "already taken"],
  ["dashboard", "must look like"],
  ["/Dashboard", "must look like"],
  ["/a/../b", "must look like"],
])("refuses the path %s", (path, message) => {
  expect(() => mountStaticPages(express(), [{ path, directory, title: "Bad" }])).toThrow(message);
});

it("refuses two pages on one path", () => {
  const page = { path: "/board", directory, title: "Board" };
  expect(() => mountStaticPages(express(), [page, page])).toThrow("/board is already taken");
});
