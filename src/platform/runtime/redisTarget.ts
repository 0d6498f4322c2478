import { parseClusterNodes, type RedisTarget } from "../core/redis";

/** The Redis a process connects to: the cluster of REDIS_CLUSTER_NODES when set, else REDIS_URL. */
export function redisTarget(config: { REDIS_URL?: string | undefined; REDIS_CLUSTER_NODES?: string | undefined }): RedisTarget | null {
  const nodes = parseClusterNodes(config.REDIS_CLUSTER_NODES);
  if (nodes) return { cluster: nodes };
  return config.REDIS_URL ?? null;
}

