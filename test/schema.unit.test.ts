import "reflect-metadata";
import { readFile } from "node:fs/promises";
import { parse, validate } from "graphql";
import { resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { createPubSub } from "@graphql-yoga/subscription";
import { buildGraphQLSchema, printSortedSchema } from "../src/platform/graphql/schema";
import { services } from "../src/registry";
import { allResolvers } from "../src/platform/runtime/app";

const root = resolve(__dirname, "..");

it("schema/schema.graphql matches the schema the code builds (run `npm run schema:emit`)", async () => {
  const schema = await buildGraphQLSchema(allResolvers(services), createPubSub());
  expect(await readFile(resolve(root, "schema/schema.graphql"), "utf8")).toBe(printSortedSchema(schema));
});

it("test/graphql/generated.ts matches the operations and the schema (run `npm run codegen`)", () => {
  // The codegen CLI is ESM-only, so it runs as its own process, in check mode: it writes nothing.
  const cli = resolve(root, "node_modules/@graphql-codegen/cli/cjs/bin.js");
  const run = spawnSync(process.execPath, [cli, "--config", "codegen.yml", "--check"], { cwd: root, encoding: "utf8" });
  expect({ status: run.status, output: run.status === 0 ? "" : run.stdout + run.stderr }).toEqual({ status: 0, output: "" });
}, 60_000);

it("every GraphQL example in README.md is valid against the schema", async () => {
  const schema = await buildGraphQLSchema(allResolvers(services), createPubSub());
  const readme = await readFile(resolve(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThanOrEqual(10);
  for (const block of blocks) expect({ block, errors: validate(schema, parse(block)).map((e) => e.message) }).toEqual({ block, errors: [] });
});
