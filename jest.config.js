/** @type {import('jest').Config} */
const swcrc = JSON.parse(require("node:fs").readFileSync(`${__dirname}/.swcrc`, "utf8"));

module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/projections", "<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { ...swcrc, swcrc: false }],
    // jose ships ES modules only: Node loads them with require(esm), jest's CommonJS runtime needs them compiled.
    "/node_modules/jose/.+\\.js$": ["@swc/jest", { ...swcrc, jsc: { ...swcrc.jsc, parser: { syntax: "ecmascript" } }, swcrc: false }],
  },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  globalSetup: "<rootDir>/test/support/globalSetup.js",
  setupFiles: ["reflect-metadata"],
  maxWorkers: 2,
  testTimeout: 60_000,
};
