// @ts-check
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");

module.exports = tseslint.config(
  { ignores: ["dist/", "node_modules/", ".data/", "test/graphql/generated.ts", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable", __dirname: "readonly", console: "readonly", process: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Services are TypeScript; their .js files are the scripts of static pages, run by browsers as ES modules.
    files: ["src/services/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: { document: "readonly", location: "readonly", WebSocket: "readonly", URL: "readonly", URLSearchParams: "readonly", setTimeout: "readonly", console: "readonly" },
    },
  },
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/platform/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "error" },
  },
);
