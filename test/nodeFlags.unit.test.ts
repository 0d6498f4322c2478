import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { NODE_FLAGS } from "../src/platform/runtime/nodeFlags";

/** Every place that starts Eventline's processes passes the same V8 flags (src/platform/runtime/nodeFlags.ts). */
const ROOT = resolve(__dirname, "..");
const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");
const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;

it.each(NODE_FLAGS)("npm start runs the system with %s", (flag) => {
  expect(scripts.start).toMatch(new RegExp(`node ${flag} dist/src/main\\.js all`));
});

it.each(NODE_FLAGS)("npm run bench runs with %s, as the roles whose code it runs in process", (flag) => {
  expect(scripts.bench).toMatch(new RegExp(`node ${flag} dist/bench/run\\.js`));
});

it("the image sets every flag in NODE_OPTIONS, which a command override keeps", () => {
  const options = /^\s*NODE_OPTIONS="?([^"\\\n]+)/m.exec(read("docker/Dockerfile"))?.[1]?.trim().split(/\s+/) ?? [];
  expect(options).toEqual(expect.arrayContaining([...NODE_FLAGS]));
});
