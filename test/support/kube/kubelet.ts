// The "kubelet" of the test Kubernetes API server: every Pod object becomes a real Docker
// container. Images are pulled by the Docker engine with the pod's imagePullSecrets
// (kubernetes.io/dockerconfigjson) — only from loopback registries; env comes from envFrom
// Secrets/ConfigMaps and env; the first container port is published on 127.0.0.1 at a random host
// port (annotation test.ancla.dev/host-port, status.podIP 127.0.0.1); readiness comes from the
// real httpGet/tcpSocket probe; exits restart with back-off (CrashLoopBackOff), failed pulls show
// ErrImagePull/ImagePullBackOff; pods/log reads the container's log. One container per pod.
// restartPolicy Never/OnFailure (Job pods): an exit ends the pod — phase Succeeded or Failed with
// the exit code in containerStatuses[].state.terminated — and its container stays for pods/log
// until the pod is deleted. A persistentVolumeClaim volume is a Docker named volume per claim uid
// (the claim must exist and be Bound, else the pod waits in ContainerCreating with FailedMount
// events), so data persists across pods; the volume is removed once its claim is gone. A gracefully
// deleted pod's containers are removed (asked again until the engine no longer knows them) before
// its object goes; a pod deleted at once has them removed by the next pass, one removal at a time.
import { connect } from "node:net";
import type { DockerClient } from "../../../src/targets/docker/client";
import { ApiError, type Obj } from "./objects";
import { RESOURCES } from "./resources";
import type { Store } from "./store";

export const HOST_PORT_ANNOTATION = "test.ancla.dev/host-port";
export const HOST_PORTS_ANNOTATION = "test.ancla.dev/host-ports";
export const SERVER_LABEL = "test.ancla.dev/kube-server";
export const PVC_UID_LABEL = "test.ancla.dev/pvc-uid";

const def = (kind: string) => RESOURCES.find((d) => d.kind === kind)!;
const POD = def("Pod");
const PVC = def("PersistentVolumeClaim");
const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

export type KubeletOptions = { docker: DockerClient; serverId: string; labels: Record<string, string>; backoffBaseMs: number; backoffCapMs: number; probePeriodCapMs: number; graceCapMs: number };

type Runtime = {
  ns: string;
  name: string;
  uid: string;
  phase: "pull" | "pull-backoff" | "create" | "running" | "crash-backoff" | "config-error" | "terminating" | "terminated";
  /** the final state of a pod that does not restart (restartPolicy Never, or OnFailure after exit 0) */
  final?: Obj;
  waiting?: { reason: string; message?: string };
  until: number;
  pullFailures: number;
  containerId?: string;
  previousId?: string;
  hostPorts: Record<string, number>;
  restartCount: number;
  startedAt?: string;
  startedMs: number;
  lastTerminated?: Obj;
  ready: boolean;
  readySince?: string;
  okStreak: number;
  failStreak: number;
  nextProbe: number;
  busy: boolean;
  imageId?: string;
};

/** Registry host of an image reference, or undefined for Docker Hub-style names. */
export function registryOf(image: string): string | undefined {
  const first = image.split("/")[0]!;
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : undefined;
}
const isLoopback = (host: string) => /^(127\.\d+\.\d+\.\d+|localhost)(:\d+)?$/.test(host);

function demux(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2 || buf[i] === 0) && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return i === 0 ? buf : Buffer.concat(out);
}

export class Kubelet {
  readonly runtimes = new Map<string, Runtime>();
  /** images this "node" has pulled (the engine's own store is not the node's cache: the first pod pulls for real) */
  private pulled = new Set<string>();
  constructor(private readonly store: Store, private readonly o: KubeletOptions, private readonly event: (obj: Obj, type: string, reason: string, message: string) => void) {}

  private key = (ns: string, name: string) => `${ns}/${name}`;

  /** One pass over every pod: start what is new, probe what runs, restart what exited. */
  async sync(): Promise<void> {
    const seen = new Set<string>();
    for (const pod of this.store.list(POD)) {
      const k = this.key(pod.metadata.namespace, pod.metadata.name);
      seen.add(k);
      let rt = this.runtimes.get(k);
      if (rt && rt.uid !== pod.metadata.uid) rt = undefined;
      if (!rt) {
        rt = { ns: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid, phase: "pull", until: 0, pullFailures: 0, hostPorts: {}, restartCount: 0, startedMs: 0, ready: false, okStreak: 0, failStreak: 0, nextProbe: 0, busy: false, waiting: { reason: "ContainerCreating" } };
        this.runtimes.set(k, rt);
        this.event(pod, "Normal", "Scheduled", `Successfully assigned ${rt.ns}/${rt.name} to ancla-test-node`);
        this.writeStatus(pod, rt);
      }
      if (rt.busy || Date.now() < rt.until) continue;
      rt.busy = true;
      void this.step(pod, rt).catch((e) => console.error("kube test kubelet:", e)).finally(() => (rt!.busy = false));
    }
    for (const [k, rt] of this.runtimes) {
      if (seen.has(k) || rt.busy) continue;
      // the pod object is gone (deleted with grace period 0, or its namespace): its containers go,
      // one cleanup at a time, and the runtime is forgotten only once they are gone
      rt.busy = true;
      void this.removeContainers(rt).finally(() => this.runtimes.get(k) === rt && this.runtimes.delete(k));
    }
    if (Date.now() >= this.nextVolumeGc) {
      this.nextVolumeGc = Date.now() + 2000;
      await this.collectVolumes().catch(() => {});
    }
  }

  private nextVolumeGc = 0;
  private volumeName = (claimUid: string) => `kube-${this.o.serverId}-pvc-${claimUid}`;

  /** The "provisioner"'s reclaim policy Delete: a claim's Docker volume goes once the claim is gone and nothing mounts it. */
  private async collectVolumes(): Promise<void> {
    const { Volumes } = await this.o.docker.listVolumes({ filters: { label: [`${SERVER_LABEL}=${this.o.serverId}`] } });
    const claims = new Set(this.store.list(PVC).map((c) => c.metadata.uid));
    for (const v of Volumes ?? []) {
      const uid = v.Labels?.[PVC_UID_LABEL];
      if (uid && !claims.has(uid)) await this.o.docker.getVolume(v.Name).remove().catch(() => {}); // in use: next time
    }
  }

  /** Docker mounts for the container's volumeMounts; throws the kubelet's FailedMount text when a claim is missing or unbound. */
  private async mountsOf(pod: Obj): Promise<Obj[]> {
    const out: Obj[] = [];
    for (const m of this.container(pod).volumeMounts ?? []) {
      const vol = (pod.spec.volumes ?? []).find((v: Obj) => v.name === m.name);
      if (!vol) throw new Error(`volumeMount ${m.name} has no volume of that name`);
      if (vol.persistentVolumeClaim) {
        const claim = this.store.find(PVC, pod.metadata.namespace, vol.persistentVolumeClaim.claimName);
        if (!claim) throw new Error(`persistentvolumeclaim "${vol.persistentVolumeClaim.claimName}" not found`);
        if (claim.status?.phase !== "Bound") throw new Error(`persistentvolumeclaim "${claim.metadata.name}" is not bound`);
        const name = this.volumeName(claim.metadata.uid);
        await this.o.docker.createVolume({ Name: name, Labels: { ...this.o.labels, [SERVER_LABEL]: this.o.serverId, [PVC_UID_LABEL]: claim.metadata.uid } } as never);
        out.push({ Type: "volume", Source: name, Target: m.mountPath, ReadOnly: Boolean(m.readOnly || vol.persistentVolumeClaim.readOnly) });
      } else if (vol.emptyDir) {
        out.push({ Type: "tmpfs", Target: m.mountPath });
      } else throw new Error(`volume ${m.name}: only persistentVolumeClaim and emptyDir volumes are supported by this test node`);
    }
    return out;
  }

  private async step(pod: Obj, rt: Runtime): Promise<void> {
    if (pod.metadata.deletionTimestamp) return this.terminate(pod, rt);
    if (rt.phase === "pull" || rt.phase === "pull-backoff") return this.pull(pod, rt);
    if (rt.phase === "create" || rt.phase === "crash-backoff" || rt.phase === "config-error") return this.start(pod, rt);
    if (rt.phase === "running") return this.watchRunning(pod, rt);
  }

  private container(pod: Obj): Obj {
    return pod.spec.containers[0];
  }

  private backoff(n: number): number {
    return Math.min(this.o.backoffCapMs, this.o.backoffBaseMs * 2 ** Math.max(0, n - 1));
  }

  private pullAuth(pod: Obj, host: string): Obj | undefined {
    for (const ref of pod.spec.imagePullSecrets ?? []) {
      const s = this.store.find(def("Secret"), pod.metadata.namespace, ref.name);
      if (!s || s.type !== "kubernetes.io/dockerconfigjson") continue;
      try {
        const cfg = JSON.parse(Buffer.from(s.data?.[".dockerconfigjson"] ?? "", "base64").toString());
        const entry = cfg.auths?.[host] ?? cfg.auths?.[`http://${host}`] ?? cfg.auths?.[`https://${host}`];
        if (!entry) continue;
        const [username, password] = entry.username ? [entry.username, entry.password] : Buffer.from(entry.auth ?? "", "base64").toString().split(/:(.*)/s);
        return { username, password, serveraddress: host };
      } catch {}
    }
    return undefined;
  }

  private async pull(pod: Obj, rt: Runtime): Promise<void> {
    const c = this.container(pod);
    const host = registryOf(c.image);
    const needPull = host !== undefined && (c.imagePullPolicy === "Always" || (c.imagePullPolicy !== "Never" && !this.pulled.has(c.image)));
    if (!needPull) {
      const local = await this.o.docker.getImage(c.image).inspect().catch(() => undefined);
      if (local) {
        rt.imageId = local.Id;
        rt.phase = "create";
        return this.start(pod, rt);
      }
      return this.pullFailed(pod, rt, c.imagePullPolicy === "Never" ? `Container image "${c.image}" is not present with pull policy of Never` : `pull access denied for ${c.image}, repository does not exist (this test node pulls only from loopback registries)`, c.imagePullPolicy === "Never" ? "ErrImageNeverPull" : "ErrImagePull");
    }
    if (!isLoopback(host!)) return this.pullFailed(pod, rt, `failed to resolve reference "${c.image}": this test node pulls only from loopback registries`);
    this.event(pod, "Normal", "Pulling", `Pulling image "${c.image}"`);
    try {
      const auth = this.pullAuth(pod, host!);
      const stream = await this.o.docker.pull(c.image, auth ? { authconfig: auth } : {});
      await new Promise<void>((resolve, reject) =>
        this.o.docker.modem.followProgress(stream, (err: Error | null, out: Obj[]) => {
          const bad = err?.message ?? out?.find((x) => x.error)?.error;
          bad ? reject(new Error(bad)) : resolve();
        }),
      );
      const img = await this.o.docker.getImage(c.image).inspect();
      rt.imageId = img.Id;
      this.pulled.add(c.image);
      this.event(pod, "Normal", "Pulled", `Successfully pulled image "${c.image}"`);
      rt.pullFailures = 0;
      rt.phase = "create";
      return this.start(pod, rt);
    } catch (e) {
      const msg = ((e as { json?: { message?: string } }).json?.message ?? (e as Error).message).trim();
      return this.pullFailed(pod, rt, `failed to pull and unpack image "${c.image}": ${msg}`);
    }
  }

  private pullFailed(pod: Obj, rt: Runtime, message: string, reason = "ErrImagePull"): void {
    rt.pullFailures++;
    this.event(pod, "Warning", "Failed", `Failed to pull image "${this.container(pod).image}": ${message}`);
    this.event(pod, "Warning", "Failed", `Error: ${reason}`);
    // ErrImagePull is what the first attempt shows; waiting for the next attempt it is ImagePullBackOff
    rt.waiting = { reason: rt.pullFailures > 1 && reason === "ErrImagePull" ? "ImagePullBackOff" : reason, message: rt.pullFailures > 1 ? `Back-off pulling image "${this.container(pod).image}": ${message}` : message };
    rt.phase = "pull-backoff";
    rt.until = Date.now() + this.backoff(rt.pullFailures);
    this.writeStatus(pod, rt);
    if (rt.pullFailures === 1) {
      // the kubelet shows ImagePullBackOff while it waits after the first failure as well
      setTimeout(() => {
        if (this.runtimes.get(this.key(rt.ns, rt.name)) !== rt || rt.phase !== "pull-backoff") return;
        rt.waiting = { reason: "ImagePullBackOff", message: `Back-off pulling image "${this.container(pod).image}": ${message}` };
        this.event(pod, "Normal", "BackOff", `Back-off pulling image "${this.container(pod).image}"`);
        const cur = this.store.find(POD, rt.ns, rt.name);
        if (cur) this.writeStatus(cur, rt);
      }, Math.min(300, this.backoff(1) / 2));
    }
  }

  private envOf(pod: Obj): string[] {
    const c = this.container(pod);
    const env: Record<string, string> = {};
    const decode = (s: Obj, k: string) => (s.kind === "Secret" ? Buffer.from(s.data?.[k] ?? "", "base64").toString() : s.data?.[k]);
    for (const from of c.envFrom ?? []) {
      const ref = from.secretRef ?? from.configMapRef;
      const kind = from.secretRef ? "Secret" : "ConfigMap";
      const src = this.store.find(def(kind), pod.metadata.namespace, ref.name);
      if (!src) {
        if (ref.optional) continue;
        throw new ApiError(400, "BadRequest", `${kind === "Secret" ? "secret" : "configmap"} "${ref.name}" not found`);
      }
      for (const k of Object.keys(src.data ?? {})) env[`${from.prefix ?? ""}${k}`] = decode(src, k);
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m: string, n: string) => env[n] ?? m);
      else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) {
        const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
        const src = this.store.find(def(e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap"), pod.metadata.namespace, ref.name);
        if (src && decode(src, ref.key) !== undefined) env[e.name] = decode(src, ref.key);
        else if (!ref.optional) throw new ApiError(400, "BadRequest", `couldn't find key ${ref.key} in ${e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap"} ${pod.metadata.namespace}/${ref.name}`);
      } else if (e.valueFrom?.fieldRef) {
        const path = e.valueFrom.fieldRef.fieldPath as string;
        env[e.name] = path === "status.podIP" || path === "status.hostIP" ? "127.0.0.1" : path === "spec.nodeName" ? "ancla-test-node" : String(path.split(".").reduce<any>((o, k) => o?.[k], pod) ?? "");
      }
    }
    return Object.entries(env).map(([k, v]) => `${k}=${v}`);
  }

  private async start(pod: Obj, rt: Runtime): Promise<void> {
    const c = this.container(pod);
    let env: string[];
    try {
      env = this.envOf(pod);
    } catch (e) {
      rt.phase = "config-error";
      rt.waiting = { reason: "CreateContainerConfigError", message: (e as Error).message };
      rt.until = Date.now() + this.backoff(1);
      this.event(pod, "Warning", "Failed", `Error: ${(e as Error).message}`);
      this.writeStatus(pod, rt);
      return;
    }
    let mounts: Obj[];
    try {
      mounts = await this.mountsOf(pod);
    } catch (e) {
      rt.phase = "create";
      rt.waiting = { reason: "ContainerCreating" };
      rt.until = Date.now() + 1000;
      this.event(pod, "Warning", "FailedMount", `Unable to attach or mount volumes: ${(e as Error).message}`);
      this.writeStatus(pod, rt);
      return;
    }
    const ports = (c.ports ?? []).filter((p: Obj) => (p.protocol ?? "TCP") === "TCP");
    const mem = parseQuantity(c.resources?.limits?.memory);
    const cpu = parseQuantity(c.resources?.limits?.cpu);
    if (rt.previousId) await this.removeContainer(rt.previousId);
    rt.previousId = rt.containerId;
    const created = await this.o.docker.createContainer({
      name: `k8s_${c.name}_${rt.name}_${rt.ns}_${rt.restartCount}_${Math.random().toString(36).slice(2, 6)}`,
      Image: rt.imageId ?? c.image,
      ...(c.command ? { Entrypoint: c.command } : {}),
      ...(c.args ? { Cmd: c.args } : c.command ? { Cmd: [] } : {}),
      ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
      Env: env,
      Labels: { ...this.o.labels, [SERVER_LABEL]: this.o.serverId, "io.kubernetes.pod.namespace": rt.ns, "io.kubernetes.pod.name": rt.name, "io.kubernetes.container.name": c.name },
      ExposedPorts: Object.fromEntries(ports.map((p: Obj) => [`${p.containerPort}/tcp`, {}])),
      HostConfig: {
        PortBindings: Object.fromEntries(ports.map((p: Obj) => [`${p.containerPort}/tcp`, [{ HostIp: "127.0.0.1", HostPort: "" }]])),
        ...(mounts.length ? { Mounts: mounts as never } : {}),
        ...(mem ? { Memory: Math.max(6 * 1024 * 1024, Math.round(mem)) } : {}),
        ...(cpu ? { NanoCpus: Math.round(cpu * 1e9) } : {}),
      },
    });
    this.event(pod, "Normal", "Created", `Created container ${c.name}`);
    await created.start();
    const info = await created.inspect();
    rt.containerId = created.id;
    rt.hostPorts = {};
    for (const p of ports) {
      const b = info.NetworkSettings.Ports?.[`${p.containerPort}/tcp`]?.[0];
      if (b) rt.hostPorts[String(p.containerPort)] = Number(b.HostPort);
    }
    this.event(pod, "Normal", "Started", `Started container ${c.name}`);
    rt.phase = "running";
    rt.waiting = undefined;
    rt.startedAt = now();
    rt.startedMs = Date.now();
    rt.ready = !c.readinessProbe;
    rt.readySince = rt.ready ? now() : undefined;
    rt.okStreak = rt.failStreak = 0;
    rt.nextProbe = Date.now() + (c.readinessProbe?.initialDelaySeconds ?? 0) * 1000;
    const first = Object.values(rt.hostPorts)[0];
    this.writeStatus(pod, rt, first ? { [HOST_PORT_ANNOTATION]: String(first), [HOST_PORTS_ANNOTATION]: JSON.stringify(rt.hostPorts) } : undefined);
  }

  private async watchRunning(pod: Obj, rt: Runtime): Promise<void> {
    let info: Awaited<ReturnType<ReturnType<DockerClient["getContainer"]>["inspect"]>> | undefined;
    try {
      info = await this.o.docker.getContainer(rt.containerId!).inspect();
    } catch (e) {
      // the engine did not answer (load): the container is as it was; only a 404 means it is gone
      if ((e as { statusCode?: number }).statusCode !== 404) return;
    }
    if (!info || !info.State.Running) {
      const code = info?.State.ExitCode ?? 137;
      const terminated = { exitCode: code, reason: info?.State.OOMKilled ? "OOMKilled" : code === 0 ? "Completed" : "Error", startedAt: rt.startedAt, finishedAt: info?.State.FinishedAt?.replace(/\.\d+Z$/, "Z") ?? now(), containerID: `docker://${rt.containerId}` };
      const policy = pod.spec.restartPolicy ?? "Always";
      if (policy === "Never" || (policy === "OnFailure" && code === 0)) {
        // the pod is done: its container stays (pods/log) until the pod is deleted
        rt.phase = "terminated";
        rt.final = terminated;
        rt.ready = false;
        rt.readySince = undefined;
        this.writeStatus(pod, rt);
        return;
      }
      rt.lastTerminated = terminated;
      rt.restartCount++;
      rt.ready = false;
      rt.readySince = undefined;
      const wait = this.backoff(rt.restartCount);
      rt.phase = "crash-backoff";
      rt.until = Date.now() + wait;
      const c = this.container(pod);
      rt.waiting = { reason: "CrashLoopBackOff", message: `back-off ${Math.round(wait / 1000)}s restarting failed container=${c.name} pod=${rt.name}_${rt.ns}(${rt.uid})` };
      this.event(pod, "Warning", "BackOff", `Back-off restarting failed container ${c.name} in pod ${rt.name}_${rt.ns}(${rt.uid})`);
      this.writeStatus(pod, rt);
      return;
    }
    const probe = this.container(pod).readinessProbe;
    if (!probe || Date.now() < rt.nextProbe) return;
    rt.nextProbe = Date.now() + Math.min(probe.periodSeconds * 1000, this.o.probePeriodCapMs);
    const failure = await this.probe(probe, rt);
    if (failure === undefined) {
      rt.okStreak++;
      rt.failStreak = 0;
      if (!rt.ready && rt.okStreak >= probe.successThreshold) {
        rt.ready = true;
        rt.readySince = now();
        this.writeStatus(pod, rt);
      }
    } else {
      rt.failStreak++;
      rt.okStreak = 0;
      this.event(pod, "Warning", "Unhealthy", `Readiness probe failed: ${failure}`);
      if (rt.ready && rt.failStreak >= probe.failureThreshold) {
        rt.ready = false;
        rt.readySince = undefined;
        this.writeStatus(pod, rt);
      }
    }
  }

  /** undefined when the probe passes, else the kubelet's failure text. */
  private async probe(probe: Obj, rt: Runtime): Promise<string | undefined> {
    const c = this.store.find(POD, rt.ns, rt.name)?.spec.containers[0];
    const portOf = (p: number | string) => (typeof p === "number" ? p : (c?.ports ?? []).find((x: Obj) => x.name === p)?.containerPort);
    if (probe.httpGet) {
      const port = rt.hostPorts[String(portOf(probe.httpGet.port))];
      const path = probe.httpGet.path ?? "/";
      if (!port) return `port ${probe.httpGet.port} is not published`;
      const headers: Record<string, string> = { "user-agent": "kube-probe/1.30" };
      for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name.toLowerCase() === "host" ? "host" : h.name] = h.value;
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers, redirect: "manual", signal: AbortSignal.timeout(probe.timeoutSeconds * 1000) });
        await res.arrayBuffer().catch(() => {});
        return res.status >= 200 && res.status < 400 ? undefined : `HTTP probe failed with statuscode: ${res.status}`;
      } catch (e) {
        return `Get "http://127.0.0.1:${port}${path}": ${(e as Error).message}`;
      }
    }
    if (probe.tcpSocket) {
      const port = rt.hostPorts[String(portOf(probe.tcpSocket.port))];
      return new Promise((resolve) => {
        const s = connect({ host: "127.0.0.1", port: port ?? 1 }, () => (s.end(), resolve(undefined)));
        s.on("error", (e) => resolve(`dial tcp: ${e.message}`));
      });
    }
    return undefined;
  }

  /** Graceful deletion: not ready at once, the container stopped within the (capped) grace period, then the object goes. */
  private async terminate(pod: Obj, rt: Runtime): Promise<void> {
    if (rt.phase === "terminating") return;
    rt.phase = "terminating";
    rt.ready = false;
    this.writeStatus(pod, rt);
    this.event(pod, "Normal", "Killing", `Stopping container ${this.container(pod).name}`);
    const grace = Math.min((pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30) * 1000, this.o.graceCapMs);
    if (rt.containerId) await this.o.docker.getContainer(rt.containerId).stop({ t: Math.ceil(grace / 1000) }).catch(() => {});
    await this.removeContainers(rt);
    const cur = this.store.find(POD, rt.ns, rt.name);
    if (cur && cur.metadata.uid === rt.uid) this.store.delete(POD, rt.ns, rt.name, { force: true });
    this.runtimes.delete(this.key(rt.ns, rt.name));
  }

  private async removeContainers(rt: Runtime): Promise<void> {
    for (const id of [rt.containerId, rt.previousId]) if (id) await this.removeContainer(id);
    rt.containerId = rt.previousId = undefined;
  }

  /**
   * Remove a container for good: the engine answers 409 while another removal of it is under way
   * (which can still fail) and a forced removal can fail under load, so it is asked again until it
   * no longer knows the container (404), for up to a minute.
   */
  private async removeContainer(id: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (let round = 1; ; round++) {
      try {
        await this.o.docker.getContainer(id).remove({ force: true });
        return;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404 || Date.now() > deadline) return;
      }
      await Bun.sleep(Math.min(1000, 100 * round));
    }
  }

  private writeStatus(pod: Obj, rt: Runtime, annotations?: Record<string, string>): void {
    const c = this.container(pod);
    const running = rt.phase === "running" || (rt.phase === "terminating" && rt.containerId);
    const cs: Obj = {
      name: c.name,
      image: c.image,
      imageID: rt.imageId ?? "",
      ready: rt.ready,
      started: Boolean(running),
      restartCount: rt.restartCount,
      state: running ? { running: { startedAt: rt.startedAt } } : rt.phase === "terminated" && rt.final ? { terminated: rt.final } : { waiting: rt.waiting ?? { reason: "ContainerCreating" } },
      lastState: rt.lastTerminated ? { terminated: rt.lastTerminated } : {},
      ...(rt.containerId ? { containerID: `docker://${rt.containerId}` } : {}),
    };
    const cond = (type: string, ok: boolean) => ({ type, status: ok ? "True" : "False", lastProbeTime: null, lastTransitionTime: now() });
    const prev = pod.status ?? {};
    const keepTime = (x: Obj) => {
      const old = (prev.conditions ?? []).find((p: Obj) => p.type === x.type);
      return old && old.status === x.status ? { ...x, lastTransitionTime: old.lastTransitionTime } : x;
    };
    const status: Obj = {
      phase: rt.phase === "terminated" ? (rt.final?.exitCode === 0 ? "Succeeded" : "Failed") : running || rt.phase === "crash-backoff" ? "Running" : "Pending",
      conditions: [cond("Initialized", true), cond("Ready", rt.ready), cond("ContainersReady", rt.ready), cond("PodScheduled", true)].map(keepTime),
      hostIP: "127.0.0.1",
      podIP: "127.0.0.1",
      podIPs: [{ ip: "127.0.0.1" }],
      startTime: prev.startTime ?? now(),
      containerStatuses: [cs],
      qosClass: c.resources?.limits ? "Guaranteed" : "BestEffort",
    };
    this.store.writeStatus(POD, rt.ns, rt.name, status, annotations ? { annotations: { ...pod.metadata.annotations, ...annotations } } : undefined);
  }

  /** GET pods/{name}/log: the container's output (stdout and stderr), as the kubelet serves it. */
  async log(ns: string, name: string, q: URLSearchParams, signal: AbortSignal): Promise<Response> {
    const pod = this.store.get(POD, ns, name);
    const c = this.container(pod);
    const want = q.get("container");
    if (want && want !== c.name) throw new ApiError(400, "BadRequest", `container ${want} is not valid for pod ${name}`);
    const rt = this.runtimes.get(this.key(ns, name));
    const previous = q.get("previous") === "true";
    const idNow = () => (previous ? rt?.previousId ?? (rt?.phase === "crash-backoff" ? rt.containerId : undefined) : rt?.phase === "crash-backoff" ? rt.containerId : rt?.containerId);
    const id = idNow();
    // a terminating pod's containers go just before the pod object does: answer as the API server
    // does a moment later, not with "waiting to start" or the engine's "marked for removal" error
    const going = () => rt?.phase === "terminating" || this.runtimes.get(this.key(ns, name)) !== rt;
    const gone = () => new ApiError(404, "NotFound", `pods "${name}" not found`, { name, kind: "pods" });
    if (!id && !rt?.containerId && going()) throw gone();
    if (!id) {
      if (previous) throw new ApiError(400, "BadRequest", `previous terminated container "${c.name}" in pod "${name}" not found`);
      const why = rt?.waiting?.reason === "ImagePullBackOff" || rt?.waiting?.reason === "ErrImagePull" ? "trying and failing to pull image" : rt?.waiting?.reason ?? "ContainerCreating";
      throw new ApiError(400, "BadRequest", `container "${c.name}" in pod "${name}" is waiting to start: ${why}`);
    }
    const tail = q.get("tailLines");
    const opts = { stdout: true, stderr: true, timestamps: q.get("timestamps") === "true", ...(tail ? { tail: Number(tail) } : {}), ...(q.get("sinceSeconds") ? { since: Math.floor(Date.now() / 1000) - Number(q.get("sinceSeconds")) } : {}) };
    const container = this.o.docker.getContainer(id);
    const follow = q.get("follow") === "true" && rt?.phase === "running";
    if (!follow) {
      // a restart may remove the container named here while its log is read (the one before it
      // goes when a new one is created): read the container that is "previous" / current then
      const read = async (cid: string, left: number): Promise<Buffer> => {
        try {
          return (await this.o.docker.getContainer(cid).logs({ ...opts, follow: false })) as unknown as Buffer;
        } catch (e) {
          const next = idNow();
          if (left > 0 && next && next !== cid) return read(next, left - 1);
          if (going()) throw gone();
          throw e;
        }
      };
      const buf = await read(id, 3);
      let out = demux(Buffer.from(buf));
      const limit = Number(q.get("limitBytes") ?? 0);
      if (limit > 0) out = out.subarray(0, limit);
      return new Response(new Uint8Array(out), { headers: { "content-type": "text/plain" } });
    }
    const stream = (await container.logs({ ...opts, follow: true })) as unknown as NodeJS.ReadableStream & { destroy: () => void };
    let pending = Buffer.alloc(0);
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        stream.on("data", (chunk: Buffer) => {
          pending = Buffer.concat([pending, chunk]);
          while (pending.length >= 8) {
            const len = pending.readUInt32BE(4);
            if (pending.length < 8 + len) break;
            ctl.enqueue(new Uint8Array(pending.subarray(8, 8 + len)));
            pending = pending.subarray(8 + len);
          }
        });
        const end = () => {
          try {
            ctl.close();
          } catch {}
        };
        stream.on("end", end);
        stream.on("error", end);
        signal.addEventListener("abort", () => (stream.destroy(), end()));
      },
      cancel() {
        stream.destroy();
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain", "transfer-encoding": "chunked" } });
  }

  async stop(): Promise<void> {
    for (const rt of this.runtimes.values()) await this.removeContainers(rt);
    this.runtimes.clear();
    const { Volumes } = await this.o.docker.listVolumes({ filters: { label: [`${SERVER_LABEL}=${this.o.serverId}`] } }).catch(() => ({ Volumes: [] as { Name: string }[] }));
    for (const v of Volumes ?? []) await this.o.docker.getVolume(v.Name).remove().catch(() => {});
  }
}

/** Kubernetes quantities ("256Mi", "500m", "1") as plain numbers (bytes, cores). */
export function parseQuantity(q: unknown): number | undefined {
  if (q === undefined || q === null) return undefined;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(q));
  if (!m) return undefined;
  const n = Number(m[1]);
  const mult: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  return n * (mult[m[2]!] ?? 1);
}
