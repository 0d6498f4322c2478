import { renderGraphiQL } from "@graphql-yoga/render-graphiql";

/**
 * GraphiQL with every script, style and worker inlined from the npm package,
 * so it works offline; subscriptions go over graphql-ws on the same path.
 * Rendered once: the page is a few megabytes.
 */
export function graphiqlPage(options: { endpoint: string; title: string; defaultQuery: string }): string {
  return renderGraphiQL({
    endpoint: options.endpoint,
    subscriptionsProtocol: "WS",
    title: options.title,
    defaultQuery: options.defaultQuery,
    shouldPersistHeaders: false,
  });
}

/** Browsers ask for HTML; GraphQL clients ask for JSON. */
export function wantsHtml(accept: string | undefined): boolean {
  return !!accept && accept.includes("text/html");
}
