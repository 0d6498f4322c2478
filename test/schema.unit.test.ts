import "reflect-metadata";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { generate, loadCodegenConfig } from "@graphql-codegen/cli";
import { createPubSub } from "@graphql-yoga/subscription";
import { buildGraphQLSchema, printSortedSchema } from "../src/platform/graphql/schema";
import { services } from "../src/registry";

const root = resolve(__dirname, "..");

it("schema/schema.graphql matches the schema the code builds (run `npm run schema:emit`)", async () => {
  const schema = await buildGraphQLSchema(services.flatMap((s) => s.resolvers), createPubSub());
  expect(await readFile(resolve(root, "schema/schema.graphql"), "utf8")).toBe(printSortedSchema(schema));
});

it("test/graphql/generated.ts matches the operations and the schema (run `npm run codegen`)", async () => {
  const { config } = await loadCodegenConfig({ configFilePath: resolve(root, "codegen.yml") });
  const outputs = await generate({ ...config, cwd: root, silent: true }, false);
  const generated = outputs.find((o: { filename: string }) => o.filename.endsWith("generated.ts"));
  expect(generated).toBeDefined();
  expect(await readFile(resolve(root, "test/graphql/generated.ts"), "utf8")).toBe(generated!.content);
});
