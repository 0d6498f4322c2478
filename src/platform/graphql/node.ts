import type { GraphQLResolveInfo } from "graphql";
import { Arg, Ctx, Field, FieldResolver, ID, Info, InterfaceType, Query, Resolver, Root } from "type-graphql";
import { ValidationError } from "../core/errors";
import { requireScope } from "./auth";
import type { RequestContext } from "./context";
import { globalId, parseGlobalId } from "./globalId";
import type { ResolverClass } from "./schema";

/** What node() hands to graphql-js, remembered per object so the interface can say which type it is. */
const typenameOf = new WeakMap<object, string>();

@InterfaceType({
  description: "An entity with a global id: any GraphQL cache can normalize it, and `node(id:)` fetches it again.",
  resolveType: (value: object) => typenameOf.get(value),
})
export abstract class Node {
  @Field(() => ID, { description: "Global id, '<Type>:<key>' (e.g. 'Product:TEA-001'); treat it as opaque." })
  id!: string;
}

/**
 * One type of entity that `node(id:)` can fetch. Services list theirs in
 * their ServiceDefinition; the object type must declare `implements: Node`
 * and must not declare `id` itself (the interface's resolver computes it).
 */
export interface NodeDefinition<View extends object = object> {
  /** The GraphQL object type's name, the `<Type>` of its global ids. */
  readonly typename: string;
  /** Scopes (any one) its own query needs: node() asks for the same ones. */
  readonly scopes: readonly string[];
  /** The entity's key within its type (a SKU, an order id...). */
  keyOf(view: View): string;
  /** The entity as its own query returns it (honouring waitFor), or null. */
  load(ctx: RequestContext, key: string): Promise<View | null>;
}

/** Relay's `nodes` has no size limit; ours does, like every list argument. */
export const MAX_NODE_IDS = 100;

/** The `node`/`nodes` queries and the `id` of every Node type, for these definitions. */
export function nodeResolvers(definitions: readonly NodeDefinition[]): ResolverClass[] {
  const byType = new Map<string, NodeDefinition>();
  for (const definition of definitions) {
    if (byType.has(definition.typename)) throw new Error(`node type ${definition.typename} is defined twice`);
    byType.set(definition.typename, definition);
  }
  const types = [...byType.keys()];

  async function fetchNode(ctx: RequestContext, id: string, field: string): Promise<object | null> {
    const { typename, key } = parseGlobalId(id, types, field);
    const definition = byType.get(typename)!;
    requireScope(ctx.principal, definition.scopes);
    const view = await definition.load(ctx, key);
    if (view) typenameOf.set(view, typename);
    return view;
  }

  // Resolvers are not class-level @Authorized: each type asks for the scopes of its own query.
  @Resolver()
  class NodeQueries {
    @Query(() => Node, { nullable: true, description: "Any entity by its global id; null if it does not exist. Needs the scope of that entity's own query." })
    node(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<object | null> {
      return fetchNode(ctx, id, "id");
    }

    @Query(() => [Node], {
      nullable: "items",
      description: `Entities by their global ids, in the same order; null for one that does not exist, or with an error at its index. At most ${MAX_NODE_IDS}.`,
    })
    nodes(@Arg("ids", () => [ID]) ids: string[], @Ctx() ctx: RequestContext): Array<Promise<object | null>> {
      if (ids.length > MAX_NODE_IDS) throw new ValidationError("ids", ids, `at most ${MAX_NODE_IDS} ids`);
      // One promise per item: graphql-js turns a failed one into null plus an error at its index.
      return ids.map((id, i) => fetchNode(ctx, id, `ids[${i}]`));
    }
  }

  // On the interface: inherited by every object type implementing Node that does not declare `id` itself.
  @Resolver(() => Node)
  class NodeId {
    @FieldResolver(() => ID)
    id(@Root() view: object, @Info() info: GraphQLResolveInfo): string {
      const definition = byType.get(info.parentType.name);
      if (!definition) throw new Error(`${info.parentType.name} implements Node but has no NodeDefinition`);
      return globalId(definition.typename, definition.keyOf(view));
    }
  }

  return [NodeQueries, NodeId];
}
