import type { ApolloServerPlugin } from "@apollo/server";
import { Kind, type OperationDefinitionNode } from "graphql";
import type { Metrics } from "./metrics";

/**
 * Counts GraphQL operations over HTTP by type and first root field (both
 * bounded by the schema, unlike operation names), and every error returned
 * by its final extensions.code, after formatError has mapped it.
 */
export function graphqlMetricsPlugin(metrics: Metrics): ApolloServerPlugin {
  return {
    async requestDidStart() {
      let type = "unknown";
      let field = "unknown";
      return {
        async didResolveOperation({ operation }) {
          if (!operation) return;
          type = operation.operation;
          field = firstRootField(operation);
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === "single" ? (response.body.singleResult.errors ?? []) : [];
          metrics.graphqlOperations.inc({ type, field, outcome: errors.length ? "error" : "ok" });
          for (const error of errors) {
            const code = error.extensions?.code;
            metrics.graphqlErrors.inc({ code: typeof code === "string" ? code : "UNKNOWN" });
          }
        },
      };
    },
  };
}

/**
 * The same count for an operation the plugin does not see: a subscription started over WebSocket
 * (its events are not operations).
 */
export function countOperation(metrics: Metrics, operation: OperationDefinitionNode | undefined, errorCodes: readonly string[]): void {
  metrics.graphqlOperations.inc({ type: operation?.operation ?? "unknown", field: operation ? firstRootField(operation) : "unknown", outcome: errorCodes.length ? "error" : "ok" });
  for (const code of errorCodes) metrics.graphqlErrors.inc({ code });
}

function firstRootField(operation: OperationDefinitionNode): string {
  const first = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
  return first && first.kind === Kind.FIELD ? first.name.value : "unknown";
}
