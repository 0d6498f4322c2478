import { execFile, execFileSync } from "node:child_process";
import { resolve } from "node:path";

/**
 * Keeps the benchmarks from rotting: every scenario of `npm run bench` runs
 * once with tiny sizes (`--smoke`) against the real stack and must print
 * well-formed JSON lines with a positive value. No timing is asserted here:
 * figures belong in BENCHMARKS.md, not in a test.
 */
const ROOT = resolve(__dirname, "..");
const RUN = resolve(ROOT, "dist/bench/run.js");
const SCENARIOS = ["append", "command", "graphql-mutation", "hop", "projection-lag", "rebuild", "query", "checkout", "overload", "snapshot", "graphiql", "ws-slow-reader", "fanout", "saga-sweep"];

interface Line {
  scenario: unknown;
  value: unknown;
  unit: unknown;
  baseline: unknown;
  ratio: unknown;
  params: unknown;
}

beforeAll(() => {
  // globalSetup has built src and projections; the benchmarks also need bench/ and test/support in dist/.
  // Only those are compiled here, so that processes other test files are starting from dist/src are never touched.
  execFileSync(resolve(ROOT, "node_modules/.bin/swc"), ["bench", "test/support", "test/graphql", "-d", "dist", "--quiet"], {
    cwd: ROOT,
    stdio: "inherit",
  });
});

/** Six role processes start and load their libraries on a machine other test runs share: minutes, not seconds, under load. */
function runScenario(name: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, [RUN, name, "--json", "--smoke"], { cwd: ROOT, timeout: 150_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${name} failed: ${error.message}\n${stderr}`));
      else resolvePromise({ stdout, stderr });
    });
  });
}

describe("npm run bench -- <scenario> --json --smoke", () => {
  it.each(SCENARIOS)("%s prints well-formed results with positive values", async (name) => {
    const { stdout } = await runScenario(name);
    const lines = stdout.split("\n").filter((line) => line.trim() !== "");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const result = JSON.parse(line) as Line;
      expect(Object.keys(result).sort()).toEqual(["baseline", "params", "ratio", "scenario", "unit", "value"]);
      expect(result.scenario).toBe(name);
      expect(typeof result.unit).toBe("string");
      expect(typeof result.value).toBe("number");
      expect(Number.isFinite(result.value)).toBe(true);
      expect(result.value as number).toBeGreaterThan(0);
      expect(typeof result.params).toBe("object");
      if (result.baseline !== null) {
        expect(result.baseline as number).toBeGreaterThan(0);
        expect(result.ratio as number).toBeGreaterThan(0);
      } else {
        expect(result.ratio).toBeNull();
      }
    }
  }, 160_000);
});
