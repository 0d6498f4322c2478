import { isLocalUrl, launchRecordingBrowser } from "./support/browser";

it("a missing chromium fails the browser tests with what to install, never skips them", async () => {
  await expect(launchRecordingBrowser("/nonexistent/chromium")).rejects.toThrow(
    "Browser tests need chromium at /nonexistent/chromium: install it with 'apt-get install -y chromium'",
  );
});

// The browser test's offline check is only as good as this predicate.
describe("isLocalUrl", () => {
  it.each([
    "http://127.0.0.1:4000/graphql",
    "ws://127.0.0.1:4000/graphql",
    "http://localhost:4000/dashboard/dashboard.js",
    "ws://[::1]:4000/graphql",
    "blob:http://127.0.0.1:4000/5c0f7a4e-0000-4000-8000-000000000000",
    "data:image/svg+xml;base64,PHN2Zy8+",
  ])("accepts %s", (url) => expect(isLocalUrl(url)).toBe(true));

  it.each([
    "https://unpkg.com/graphiql/graphiql.min.css",
    "https://cdn.jsdelivr.net/npm/graphql-ws/umd/graphql-ws.min.js",
    "wss://example.com/graphql",
    "https://fonts.googleapis.com/css2?family=Roboto",
    "blob:https://example.com/5c0f7a4e-0000-4000-8000-000000000000",
    "http://127.0.0.1.example.com/x",
  ])("refuses %s", (url) => expect(isLocalUrl(url)).toBe(false));
});
