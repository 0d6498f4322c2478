import { type ClassType, Field, Int, ObjectType } from "type-graphql";
import { PageInfo } from "./types";

/** One entry of a Relay connection. `Node` is what resolvers return (a read model's view), not the GraphQL class. */
export interface Edge<Node> {
  cursor: string;
  node: Node;
}

/** A page as Relay clients expect it (the Cursor Connections specification). */
export interface Connection<Node> {
  edges: Array<Edge<Node>>;
  pageInfo: PageInfo;
}

export interface CountedConnection<Node> extends Connection<Node> {
  totalCount: number;
}

export interface ConnectionOptions {
  description?: string;
  /** The description of a `totalCount` field; without it the connection has none. */
  totalCount?: string;
}

/**
 * The GraphQL types `<name>Connection` and `<name>Edge` over a node type, e.g.
 * `connectionType("Product", Product, …)` declares `ProductConnection` and
 * `ProductEdge`. Call it once per node type, at module level: each call
 * declares the types anew.
 */
export function connectionType(name: string, node: ClassType, options: ConnectionOptions = {}): ClassType {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field(() => String)
    cursor!: string;

    @Field(() => node)
    node!: unknown;
  }

  // Two classes rather than a shared base: a decorated base would itself be a GraphQL type.
  const { description, totalCount } = options;
  if (totalCount === undefined) {
    @ObjectType(`${name}Connection`, { description })
    class PageType {
      @Field(() => [EdgeType])
      edges!: EdgeType[];

      @Field(() => PageInfo)
      pageInfo!: PageInfo;
    }
    return PageType;
  }

  @ObjectType(`${name}Connection`, { description })
  class CountedPageType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: totalCount })
    totalCount!: number;
  }
  return CountedPageType;
}

/** A read model's page (see projection/readModelStore) as a connection. */
export function connectionOf<Node>(page: { nodes: Array<Edge<Node>>; hasNextPage: boolean; endCursor: string | null; totalCount: number }): CountedConnection<Node>;
export function connectionOf<Node>(page: { nodes: Array<Edge<Node>>; hasNextPage: boolean; endCursor: string | null }): Connection<Node>;
export function connectionOf<Node>(page: {
  nodes: Array<Edge<Node>>;
  hasNextPage: boolean;
  endCursor: string | null;
  totalCount?: number;
}): Connection<Node> | CountedConnection<Node> {
  const connection = { edges: page.nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
  return page.totalCount === undefined ? connection : { ...connection, totalCount: page.totalCount };
}
