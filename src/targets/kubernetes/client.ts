// A cluster connection: @kubernetes/client-node's typed APIs over the Bun fetch layer (http.ts),
// plus the few generic verbs Ancla uses on its objects — server-side apply, list by label, delete —
// dispatched by kind. client-node is loaded on first use (it takes seconds to import).
import type * as K from "@kubernetes/client-node";
import type { KubeCredentials } from "../../lib/kubeconfig";
import { createKubeFetch, sendWithFetch, type KubeFetch } from "./http";
import { FIELD_MANAGER, type KubeObject } from "./manifests";

export type Kube = {
  mod: typeof K;
  core: K.CoreV1Api;
  apps: K.AppsV1Api;
  networking: K.NetworkingV1Api;
  authz: K.AuthorizationV1Api;
  batch: K.BatchV1Api;
  fetch: KubeFetch;
  apply: (obj: KubeObject) => Promise<KubeObject>;
  list: (kind: ManagedKind, namespace: string, labelSelector: string) => Promise<KubeObject[]>;
  remove: (kind: ManagedKind, namespace: string, name: string) => Promise<void>;
};

export type ManagedKind = "Namespace" | "Secret" | "Deployment" | "Service" | "Ingress" | "Job" | "PersistentVolumeClaim";
/** What a teardown deletes by label: PersistentVolumeClaims are not among them (a volume goes only when asked, VolumeStore.remove). */
export const MANAGED_KINDS: ManagedKind[] = ["Job", "Ingress", "Service", "Deployment", "Secret"];

/** The status code of a failed API call (ApiException), or null for a network error. */
export const statusOf = (e: unknown): number | null => (e && typeof e === "object" && "code" in e && typeof (e as { code: unknown }).code === "number" ? (e as { code: number }).code : null);

/** The message of the API server's Status body, else the error's own (never a request body). */
export function kubeMessage(e: unknown): string {
  const code = statusOf(e);
  if (code !== null) {
    const body = (e as { body?: unknown }).body;
    let msg: string | undefined;
    try {
      const parsed = typeof body === "string" ? JSON.parse(body) : body;
      // only a Kubernetes Status body is quoted: whatever else a server answers stays out of messages
      const status = parsed as { kind?: unknown; message?: unknown } | null;
      if (status && typeof status === "object" && status.kind === "Status" && typeof status.message === "string") msg = status.message.slice(0, 500);
    } catch {
      // not a Status body
    }
    return `the API server answered ${code}${msg ? `: ${msg}` : ""}`;
  }
  const err = e as Error;
  const cause = (err as { cause?: { message?: string } }).cause?.message;
  return (err?.message ?? String(e)) + (cause ? ` (${cause})` : "");
}

const plain = <T>(o: T): KubeObject => JSON.parse(JSON.stringify(o)) as KubeObject;

export async function connect(creds: KubeCredentials): Promise<Kube> {
  const mod = await import("@kubernetes/client-node");
  const kubeFetch = createKubeFetch(creds);
  const httpApi = mod.wrapHttpLibrary({ send: (req) => sendWithFetch(kubeFetch, req, mod) });
  const config = mod.createConfiguration({ baseServer: new mod.ServerConfiguration(creds.server, {}), httpApi, authMethods: {} });
  const core = new mod.CoreV1Api(config);
  const apps = new mod.AppsV1Api(config);
  const networking = new mod.NetworkingV1Api(config);
  const authz = new mod.AuthorizationV1Api(config);
  const batch = new mod.BatchV1Api(config);
  const ssa = mod.setHeaderOptions("Content-Type", mod.PatchStrategy.ServerSideApply);
  const opts = { fieldManager: FIELD_MANAGER, force: true };

  async function apply(obj: KubeObject): Promise<KubeObject> {
    const name = obj.metadata.name;
    const namespace = obj.metadata.namespace ?? "";
    const body = obj as object;
    switch (obj.kind as ManagedKind) {
      case "Namespace":
        return plain(await core.patchNamespace({ name, body, ...opts }, ssa));
      case "Secret":
        return plain(await core.patchNamespacedSecret({ name, namespace, body, ...opts }, ssa));
      case "Deployment":
        return plain(await apps.patchNamespacedDeployment({ name, namespace, body, ...opts }, ssa));
      case "Service":
        return plain(await core.patchNamespacedService({ name, namespace, body, ...opts }, ssa));
      case "Ingress":
        return plain(await networking.patchNamespacedIngress({ name, namespace, body, ...opts }, ssa));
      case "Job":
        return plain(await batch.patchNamespacedJob({ name, namespace, body, ...opts }, ssa));
      case "PersistentVolumeClaim":
        return plain(await core.patchNamespacedPersistentVolumeClaim({ name, namespace, body, ...opts }, ssa));
      default:
        throw new Error(`Ancla does not apply ${obj.kind} objects`);
    }
  }

  async function list(kind: ManagedKind, namespace: string, labelSelector: string): Promise<KubeObject[]> {
    const q = { namespace, labelSelector };
    const withKind = (items: unknown[], apiVersion: string) => items.map((i) => ({ ...plain(i), apiVersion, kind }));
    switch (kind) {
      case "Secret":
        return withKind((await core.listNamespacedSecret(q)).items, "v1");
      case "Deployment":
        return withKind((await apps.listNamespacedDeployment(q)).items, "apps/v1");
      case "Service":
        return withKind((await core.listNamespacedService(q)).items, "v1");
      case "Ingress":
        return withKind((await networking.listNamespacedIngress(q)).items, "networking.k8s.io/v1");
      case "Namespace":
        return withKind((await core.listNamespace({ labelSelector })).items, "v1");
      case "Job":
        return withKind((await batch.listNamespacedJob(q)).items, "batch/v1");
      case "PersistentVolumeClaim":
        return withKind((await core.listNamespacedPersistentVolumeClaim(q)).items, "v1");
    }
  }

  async function remove(kind: ManagedKind, namespace: string, name: string): Promise<void> {
    const q = { name, namespace, propagationPolicy: "Background" };
    try {
      switch (kind) {
        case "Secret":
          await core.deleteNamespacedSecret(q);
          break;
        case "Deployment":
          await apps.deleteNamespacedDeployment(q);
          break;
        case "Service":
          await core.deleteNamespacedService(q);
          break;
        case "Ingress":
          await networking.deleteNamespacedIngress(q);
          break;
        case "Namespace":
          await core.deleteNamespace({ name });
          break;
        case "Job":
          await batch.deleteNamespacedJob(q);
          break;
        case "PersistentVolumeClaim":
          await core.deleteNamespacedPersistentVolumeClaim(q);
          break;
      }
    } catch (e) {
      if (statusOf(e) !== 404) throw e; // already gone is what we wanted
    }
  }

  return { mod, core, apps, networking, authz, batch, fetch: kubeFetch, apply, list, remove };
}
