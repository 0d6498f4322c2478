/** @type {import('jest').Config} */
const swcrc = JSON.parse(require("node:fs").readFileSync(`${__dirname}/.swcrc`, "utf8"));

module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/projections", "<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { ...swcrc, swcrc: false }] },
  globalSetup: "<rootDir>/test/support/globalSetup.js",
  setupFiles: ["reflect-metadata"],
  maxWorkers: 2,
  testTimeout: 60_000,
};
