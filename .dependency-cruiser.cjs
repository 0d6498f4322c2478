// @ts-check
// Module-level import rules, checked by `npm run lint` (lint:deps) over src, projections, test and bench.
// The folder-level cycle check of src/platform is .dependency-cruiser.folders.cjs.
const path = require("node:path");

const TEST_FILE = "\\.test\\.ts$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "Modules that import each other at run time load half-initialised (an import is undefined until the cycle unwinds), " +
        "and neither can be read or tested alone. Break the cycle by moving what both need into a third module.",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-circular-type-only",
      severity: "error",
      comment:
        "A cycle held together by an `import type` does not break loading, but still ties two modules: " +
        "move the shared type into its own module (types.ts) that both import.",
      from: {},
      to: { circular: true, via: { dependencyTypes: ["type-only"] } },
    },
    {
      name: "platform-is-domain-free",
      severity: "error",
      comment:
        "src/platform is generic machinery: it knows no service, read model, registry or test helper. " +
        "Whatever it needs from them is passed in (the registry wires services into the platform, not the other way round).",
      from: { path: "^src/platform/", pathNot: TEST_FILE },
      to: { path: ["^src/services/", "^projections/", "^src/registry\\.ts$", "^test/"] },
    },
    {
      name: "services-meet-through-contracts",
      severity: "error",
      comment:
        "A service imports another service only through that service's contract.ts (its name, the events it publishes " +
        "and the commands it accepts), so each service can change its insides alone.",
      from: { path: "^src/services/([^/]+)/" },
      to: { path: "^src/services/[^/]+/", pathNot: ["^src/services/$1/", "^src/services/[^/]+/contract\\.ts$"] },
    },
    {
      name: "production-not-to-test",
      severity: "error",
      comment: "Code under src and projections ships in dist; only its *.test.ts files may use test/ (test/support helpers).",
      from: { path: "^(src|projections)/", pathNot: TEST_FILE },
      to: { path: "^test/" },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that does not resolve fails at run time, and hides an edge from every other rule here.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules|coverage)/" },
    // Type-only imports are edges of the architecture too (tsPreCompilationDeps); rules that care tell them apart by dependency type.
    tsPreCompilationDeps: true,
    // The test config includes every file (the root one leaves *.test.ts out); absolute, so fixtures in a scratch directory find it.
    tsConfig: { fileName: path.join(__dirname, "tsconfig.test.json") },
    // Resolve packages as Node (CommonJS) and tsc do: subpath exports, and types-only packages through "types"/"typings".
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["require", "node", "default", "types"],
      mainFields: ["main", "types", "typings"],
      extensions: [".ts", ".js", ".cjs", ".json", ".d.ts"],
    },
  },
};
