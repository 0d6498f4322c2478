import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";

/**
 * The import rules of `npm run lint` (.dependency-cruiser*.cjs), run on a small tree that breaks each rule once
 * and keeps each exception once, so a rule that silently stops matching fails here, not in review.
 */
const ROOT = join(__dirname, "..");
const DEPCRUISE = join(ROOT, "node_modules", ".bin", "depcruise");

const tree: Record<string, string> = {
  // A folder cycle without a file cycle: alpha/a1 → beta/b1, beta/b2 → alpha/a2.
  "src/platform/alpha/a1.ts": `import { b1 } from "../beta/b1";\nexport const a1 = b1;\n`,
  "src/platform/alpha/a2.ts": `export const a2 = 2;\n`,
  "src/platform/beta/b1.ts": `export const b1 = 1;\n`,
  "src/platform/beta/b2.ts": `import { a2 } from "../alpha/a2";\nexport const b2 = a2;\n`,
  // The platform reaching into the application.
  "src/platform/gamma/usesService.ts": `import { decider } from "../../services/shop/decider";\nexport const g = decider;\n`,
  "src/platform/gamma/usesRegistry.ts": `import { registry } from "../../registry";\nexport const g = registry;\n`,
  "src/platform/gamma/usesReadModel.ts": `import { catalog } from "../../../projections/catalog";\nexport const g = catalog;\n`,
  "src/platform/gamma/gamma.test.ts": `import { helper } from "../../../test/support/helper";\nexport const g = helper;\n`,
  "src/registry.ts": `export const registry: string[] = [];\n`,
  // Services: through the contract is fine, into the insides is not.
  "src/services/shop/contract.ts": `export const SHOP = "shop";\n`,
  "src/services/shop/decider.ts": `export const decider = 1;\n`,
  "src/services/till/usesContract.ts": `import { SHOP } from "../shop/contract";\nexport const t = SHOP;\n`,
  "src/services/till/usesInsides.ts": `import { decider } from "../shop/decider";\nexport const t = decider;\n`,
  "src/services/till/own.ts": `import { t } from "./usesContract";\nexport const own = t;\n`,
  // A run-time cycle, and a cycle of type imports only.
  "src/services/till/ping.ts": `import { pong } from "./pong";\nexport const ping = () => pong;\n`,
  "src/services/till/pong.ts": `import { ping } from "./ping";\nexport const pong = () => ping;\n`,
  "src/services/till/left.ts": `import type { Right } from "./right";\nexport interface Left { right?: Right }\n`,
  "src/services/till/right.ts": `import type { Left } from "./left";\nexport interface Right { left?: Left }\n`,
  // Production code using a test helper.
  "projections/catalog.ts": `import { helper } from "../test/support/helper";\nexport const catalog = helper;\n`,
  "test/support/helper.ts": `export const helper = 1;\n`,
};

const cruiseResult = z.object({
  summary: z.object({
    violations: z.array(z.object({ from: z.string(), to: z.string(), rule: z.object({ name: z.string(), severity: z.string() }) })),
  }),
});

type Found = { rule: string; severity: string; from: string; to: string };

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "eventline-deprules-"));
  for (const [path, text] of Object.entries(tree)) {
    await mkdir(join(dir, dirname(path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function cruise(config: string, paths: string[]): Promise<Found[]> {
  const args = [...paths, "--config", join(ROOT, config), "--output-type", "json"];
  // depcruise exits non-zero when it finds errors; its report is on stdout either way.
  const stdout = await promisify(execFile)(DEPCRUISE, args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 }).then(
    (result) => result.stdout,
    (error: unknown) => z.object({ stdout: z.string().min(1) }).parse(error).stdout,
  );
  const { summary } = cruiseResult.parse(JSON.parse(stdout));
  return summary.violations
    .map(({ rule, from, to }) => ({ rule: rule.name, severity: rule.severity, from, to }))
    .sort((a, b) => `${a.rule} ${a.from}`.localeCompare(`${b.rule} ${b.from}`));
}

// A cycle is reported once, from one of its modules.
it("the module rules flag each broken rule once, and nothing the rules allow", async () => {
  expect(await cruise(".dependency-cruiser.cjs", ["src", "projections", "test"])).toEqual([
    { rule: "no-circular", severity: "error", from: "src/services/till/ping.ts", to: "src/services/till/pong.ts" },
    { rule: "no-circular-type-only", severity: "error", from: "src/services/till/left.ts", to: "src/services/till/right.ts" },
    { rule: "platform-is-domain-free", severity: "error", from: "src/platform/gamma/usesReadModel.ts", to: "projections/catalog.ts" },
    { rule: "platform-is-domain-free", severity: "error", from: "src/platform/gamma/usesRegistry.ts", to: "src/registry.ts" },
    { rule: "platform-is-domain-free", severity: "error", from: "src/platform/gamma/usesService.ts", to: "src/services/shop/decider.ts" },
    { rule: "production-not-to-test", severity: "error", from: "projections/catalog.ts", to: "test/support/helper.ts" },
    { rule: "services-meet-through-contracts", severity: "error", from: "src/services/till/usesInsides.ts", to: "src/services/shop/decider.ts" },
  ]);
}, 60_000);

it("the folder rule sees alpha ↔ beta, a cycle between two platform folders that no single file closes", async () => {
  expect(await cruise(".dependency-cruiser.folders.cjs", ["src/platform"])).toEqual([
    { rule: "no-platform-folder-cycle", severity: "error", from: "src/platform/alpha", to: "src/platform/beta" },
    { rule: "no-platform-folder-cycle", severity: "error", from: "src/platform/beta", to: "src/platform/alpha" },
  ]);
}, 60_000);
