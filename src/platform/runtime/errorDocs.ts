import { type ErrorCatalogue, type ErrorSpec, platformErrors } from "../core/errorCatalogue";
import type { ServiceDefinition } from "./service";

/** docs/errors.md, relative to the repository root. */
export const ERROR_DOCS_PATH = "docs/errors.md";

export interface OwnedCatalogue {
  /** `platform`, or the service that answers with these codes. */
  owner: string;
  catalogue: ErrorCatalogue;
}

/** Every catalogue the API answers from: the platform's, then each registered service's. */
export function errorCatalogues(services: readonly ServiceDefinition[]): OwnedCatalogue[] {
  return [
    { owner: "platform", catalogue: platformErrors },
    ...services.flatMap((s) => (s.errors && Object.keys(s.errors).length ? [{ owner: s.name, catalogue: s.errors }] : [])),
  ];
}

/** Each code once, with its owner; a code in two catalogues would make the contract ambiguous. */
export function allErrorCodes(catalogues: readonly OwnedCatalogue[]): Map<string, { owner: string; spec: ErrorSpec }> {
  const codes = new Map<string, { owner: string; spec: ErrorSpec }>();
  for (const { owner, catalogue } of catalogues) {
    for (const [code, spec] of Object.entries(catalogue)) {
      const earlier = codes.get(code);
      if (earlier) throw new Error(`error code ${code} is in the catalogues of both ${earlier.owner} and ${owner}`);
      codes.set(code, { owner, spec });
    }
  }
  return codes;
}

/** The reference page, in catalogue order; deterministic, so that a test can compare it with the committed one. */
export function renderErrorDocs(catalogues: readonly OwnedCatalogue[]): string {
  const codes = allErrorCodes(catalogues);
  const lines = [
    "# Error codes",
    "",
    "<!-- Generated from the error catalogues (src/platform/core/errorCatalogue.ts and each service's errors.ts) by",
    "     `npm run schema:emit` or `node dist/src/main.js emit-error-docs`. Do not edit: test/errorCatalogue.unit.test.ts fails when it is stale. -->",
    "",
    "Every GraphQL error this API answers with carries a stable `extensions.code`; the other fields of",
    "`extensions` are the error's details, listed for each code below (a field is absent when it does not",
    "apply). Messages are for people and may change; codes and details are the contract. HTTP-level",
    "refusals (413, 415, 400) have the same shape: `{ \"errors\": [{ \"message\", \"extensions\": { \"code\" } }] }`.",
    "A saga records the code of a failed step in `Saga.steps[].code` and `Saga.lastError.code`: one of these too.",
    "",
    "**Resend?** says whether sending the same request again, unchanged, may succeed. Mutations are",
    "idempotent by `commandId`: resend with the same one and a command runs at most once.",
    "",
    "| Code | From | Resend? | Meaning |",
    "| --- | --- | --- | --- |",
    ...[...codes].map(([code, { owner, spec }]) => `| [\`${code}\`](#${code.toLowerCase()}) | ${owner} | ${spec.retryable ? "yes" : "no"} | ${cell(spec.meaning)} |`),
  ];
  for (const [code, { owner, spec }] of codes) {
    lines.push("", `## ${code}`, "", `${spec.meaning}`, "", `- **From:** ${owner}`, `- **Resend?** ${spec.retryable ? "Yes" : "No"}. ${spec.advice}`);
    const details = Object.entries(spec.details);
    lines.push(details.length ? "- **Details:**" : "- **Details:** none.");
    for (const [field, meaning] of details) lines.push(`  - \`${field}\`: ${meaning}`);
  }
  return `${lines.join("\n")}\n`;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}
