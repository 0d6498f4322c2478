// @ts-check
// Folder-level cycles between the concept folders of src/platform, checked by `npm run lint` (lint:deps).
//
// dependency-cruiser aggregates modules to folders for rules with `scope: "folder"`, so it sees bus → observability →
// bus even when no single file takes part in a cycle. Only src/platform's production files are cruised: parent folders
// (src, src/platform) aggregate everything below them, and would otherwise close cycles that no concept folder has.
// Limits: a file directly in src/platform would belong to the folder src/platform, so a cycle through it would not be
// seen: keep every file in a concept folder (core/ holds the leaves). A sub-folder is a folder of its own.

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-platform-folder-cycle",
      severity: "error",
      scope: "folder",
      comment:
        "Each folder of src/platform is one concept; two that import each other (through any files) cannot be read, " +
        "tested or replaced alone. Move the shared piece into the folder it belongs to, or below both.",
      from: { path: "^src/platform/[^/]+$" },
      to: { path: "^src/platform/[^/]+$", circular: true },
    },
  ],
  options: {
    includeOnly: "^src/platform/",
    exclude: { path: "\\.test\\.ts$" },
    tsPreCompilationDeps: true,
  },
};
