import { existsSync, readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type IDeployment, Deployment } from "kubernetes-models/apps/v1/Deployment";
import { type IStatefulSet, StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { type IPodDisruptionBudget, PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { type IConfigMap, ConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import { Namespace } from "kubernetes-models/v1/Namespace";
import type { IProbe } from "kubernetes-models/v1/Probe";
import { type ISecret, Secret } from "kubernetes-models/v1/Secret";
import { type IService, Service } from "kubernetes-models/v1/Service";
import { parse, parseAllDocuments } from "yaml";
import { CONFIG_VARIABLES } from "../src/config";
import { PLATFORM_ROLES } from "../src/platform/runtime/app";
import { services } from "../src/registry";

const DIR = resolve(__dirname, "../docker/k8s");
const EXAMPLE_SECRET = "secret.example.yaml";
const ROLES = [...PLATFORM_ROLES.filter((role) => role !== "all"), ...services.map((s) => s.name)];
// Read by the scale-out work of issue 12 (cluster connection, projector segments) before src/config.ts lists them.
const PENDING_VARIABLES = ["REDIS_CLUSTER_NODES"];

interface Manifest {
  file: string;
  kind: string;
  /** Validates it against the Kubernetes API schema (kubernetes-models); throws what is wrong. */
  validate(): void;
}

/** Every document of every manifest file, sorted by kind, with the model that validates it. */
function load() {
  const found = {
    all: [] as Manifest[],
    deployments: [] as IDeployment[],
    statefulSets: [] as IStatefulSet[],
    budgets: [] as IPodDisruptionBudget[],
    services: [] as IService[],
    configMaps: [] as IConfigMap[],
    secrets: [] as ISecret[],
  };
  const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(resolve(DIR, file), "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
      const object: unknown = doc.toJS();
      const add = (kind: string, validate: () => void) => found.all.push({ file, kind, validate });
      if (Deployment.is(object)) {
        found.deployments.push(object);
        add("Deployment", () => new Deployment(object).validate());
      } else if (StatefulSet.is(object)) {
        found.statefulSets.push(object);
        add("StatefulSet", () => new StatefulSet(object).validate());
      } else if (PodDisruptionBudget.is(object)) {
        found.budgets.push(object);
        add("PodDisruptionBudget", () => new PodDisruptionBudget(object).validate());
      } else if (Service.is(object)) {
        found.services.push(object);
        add("Service", () => new Service(object).validate());
      } else if (ConfigMap.is(object)) {
        found.configMaps.push(object);
        add("ConfigMap", () => new ConfigMap(object).validate());
      } else if (Secret.is(object)) {
        if (file === EXAMPLE_SECRET) found.secrets.push(object);
        add("Secret", () => new Secret(object).validate());
      } else if (Namespace.is(object)) {
        add("Namespace", () => new Namespace(object).validate());
      } else {
        add("unknown", () => {
          throw new Error(`${file}: a document of a kind this test does not know (add its model here)`);
        });
      }
    }
  }
  return found;
}

const manifests = load();
const configMap = manifests.configMaps[0]?.data ?? {};
const workloads = [
  ...manifests.deployments.map((d) => ({ kind: "Deployment", name: d.metadata?.name, replicas: d.spec?.replicas, selector: d.spec?.selector, template: d.spec?.template })),
  ...manifests.statefulSets.map((s) => ({ kind: "StatefulSet", name: s.metadata?.name, replicas: s.spec?.replicas, selector: s.spec?.selector, template: s.spec?.template })),
].map((w) => {
  const container = w.template?.spec?.containers[0];
  return { ...w, container, role: container?.args?.[0], labels: w.template?.metadata?.labels ?? {} };
});

/** Whether `labels` carry every pair of `matchLabels` (what a selector without expressions means). */
function selects(matchLabels: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  const pairs = Object.entries(matchLabels ?? {});
  return pairs.length > 0 && pairs.every(([key, value]) => labels[key] === value);
}

/** The container port a probe targets, by name or number. */
function probePort(container: IContainer | undefined, probe: IProbe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  if (typeof port === "number") return port;
  return container?.ports?.find((p) => p.name === port)?.containerPort;
}

describe("docker/k8s manifests", () => {
  it("are valid against the Kubernetes API schemas (kubernetes-models)", () => {
    expect(manifests.all.length).toBeGreaterThan(10);
    for (const { file, kind, validate } of manifests.all) {
      let problem: string | null = null;
      try {
        validate();
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      expect({ file, kind, problem }).toEqual({ file, kind, problem: null });
    }
  });

  it("are all listed in kustomization.yaml (except the example Secret), and it lists nothing else", () => {
    const kustomization: unknown = parse(readFileSync(resolve(DIR, "kustomization.yaml"), "utf8"));
    const resources = kustomization !== null && typeof kustomization === "object" && "resources" in kustomization ? kustomization.resources : [];
    const listed = Array.isArray(resources) ? resources.map(String).sort() : [];
    const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml" && f !== EXAMPLE_SECRET);
    expect(listed).toEqual(files.sort());
    for (const file of listed) expect(existsSync(resolve(DIR, file))).toBe(true);
  });

  it("give every role one workload of 2+ replicas running its role, and no workload to an unknown role", () => {
    expect(ROLES.length).toBeGreaterThanOrEqual(6);
    expect(workloads.map((w) => w.role).sort()).toEqual([...ROLES].sort());
    for (const workload of workloads) {
      expect(workload.replicas).toBeGreaterThanOrEqual(2);
      expect(workload.container?.image).toMatch(/^eventline(:|$)/);
      expect(selects(workload.selector?.matchLabels, workload.labels)).toBe(true);
      expect(workload.kind).toBe(workload.role === "projector" ? "StatefulSet" : "Deployment");
    }
  });

  it("set PROJECTOR_ORDINAL from the StatefulSet's pod index, with a headless governing Service", () => {
    const [projector] = manifests.statefulSets;
    const env = projector?.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === "PROJECTOR_ORDINAL")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.labels['apps.kubernetes.io/pod-index']");
    const governing = manifests.services.find((s) => s.metadata?.name === projector?.spec?.serviceName);
    expect(governing?.spec?.clusterIP).toBe("None");
  });

  it("probe /health (startup, liveness) and /ready (readiness) on the port each role serves them", () => {
    const metricsPort = Number(configMap["METRICS_PORT"]);
    expect(metricsPort).toBeGreaterThan(0);
    for (const { role, container } of workloads) {
      // The api keeps /health and /ready on its own port; the other roles serve them on METRICS_PORT.
      const port = role === "api" ? Number(configMap["PORT"] ?? 4000) : metricsPort;
      for (const [probe, path] of [[container?.startupProbe, "/health"], [container?.livenessProbe, "/health"], [container?.readinessProbe, "/ready"]] as const) {
        expect({ role, path: probe?.httpGet?.path, port: probePort(container, probe) }).toEqual({ role, path, port });
      }
    }
  });

  it("give every workload a PodDisruptionBudget that selects its pods, and only them, and leaves one running", () => {
    for (const workload of workloads) {
      const budgets = manifests.budgets.filter((b) => selects(b.spec?.selector?.matchLabels, workload.labels));
      expect({ role: workload.role, budgets: budgets.length }).toEqual({ role: workload.role, budgets: 1 });
      const budget = budgets[0]!.spec!;
      for (const other of workloads.filter((w) => w !== workload)) expect(selects(budget.selector?.matchLabels, other.labels)).toBe(false);
      if (budget.maxUnavailable !== undefined) expect(Number(budget.maxUnavailable)).toBeLessThan(workload.replicas ?? 0);
      else expect(Number(budget.minAvailable)).toBeGreaterThanOrEqual(1);
    }
  });

  it("expose the api through a Service on its http port", () => {
    const api = workloads.find((w) => w.role === "api");
    const service = manifests.services.find((s) => s.spec?.clusterIP !== "None" && selects(s.spec?.selector, api?.labels ?? {}));
    const target = service?.spec?.ports?.[0]?.targetPort;
    const port = typeof target === "number" ? target : api?.container?.ports?.find((p) => p.name === target)?.containerPort;
    expect(port).toBe(Number(configMap["PORT"] ?? 4000));
  });

  it("take their settings from the ConfigMap and the Secret, whose keys are variables Eventline reads", () => {
    const secret = manifests.secrets[0];
    expect(manifests.configMaps).toHaveLength(1);
    expect(secret).toBeDefined();
    for (const { role, container } of workloads) {
      expect({ role, from: container?.envFrom?.map((e) => e.configMapRef?.name ?? e.secretRef?.name) }).toEqual({
        role,
        from: [manifests.configMaps[0]?.metadata?.name, secret?.metadata?.name],
      });
    }
    const known = new Set([...CONFIG_VARIABLES, ...PENDING_VARIABLES]);
    const secretKeys = Object.keys(secret?.stringData ?? {});
    expect([...Object.keys(configMap), ...secretKeys].filter((key) => !known.has(key))).toEqual([]);
    expect(secretKeys.sort()).toEqual(["AUTH_JWT_SECRET", "DATABASE_READ_URL", "DATABASE_URL"]);
    expect(Object.keys(configMap)).toContain("REDIS_CLUSTER_NODES");
    // Credentials never in the ConfigMap.
    expect(Object.keys(configMap).filter((key) => secretKeys.includes(key))).toEqual([]);
  });
});
