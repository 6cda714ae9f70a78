// The `build` job: prepare the context (upload, git checkout or pre-built image), run the legacy
// Docker build with a build slot held, stream redacted log lines into image_logs, record the
// result, then apply retention. Registered with the queue by modules/wiring.ts.
import { createReadStream, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { isoNow, type Deps } from "../../deps";
import { contextStream } from "../../lib/context-tar";
import { parseProcfile, ProcfileError } from "../../lib/procfile";
import { contextPath, inspectContext } from "../../lib/tar-safety";
import { imageLabels } from "../../lib/image-names";
import { buildArgs } from "./build-args";
import { withBuildSlot } from "../../jobs/build-slots";
import { INTERRUPTED, type JobContext, type JobHandler, type JobRow } from "../../jobs/queue";
import { buildWithLabels, inspectImage, removeContainers, retryingLostCache, tagImage } from "../../targets/docker/build";
import { resolveServiceConfig } from "../config-vars/resolve";
import { serviceRedactor } from "../config-vars/redaction";
import { findEnvById } from "../envs/repo";
import { findProjectById } from "../projects/repo";
import { findServiceById } from "../services/repo";
import { findOrg } from "../orgs/repo";
import { BuildError, prepareGitContext } from "./git-context";
import { applyRetention } from "./retention";
import * as repo from "./repo";
import { tidyContexts, type BuildPayload } from "./service";

const MAX_LINE = 16 * 1024;

const workDirOf = (deps: Deps, imageId: string) => join(deps.config.dataDir, "builds", imageId);

function serviceChain(deps: Deps, serviceId: string) {
  const service = findServiceById(deps.db, serviceId);
  const env = service && findEnvById(deps.db, service.envId);
  const project = env && findProjectById(deps.db, env.projectId);
  const org = project && findOrg(deps.db, project.orgId);
  if (!service || !env || !project || !org) throw new BuildError("The service of this build no longer exists.");
  return { service, env, project, org };
}

function redactorFor(deps: Deps, serviceId: string): (s: string) => string {
  try {
    return serviceRedactor(deps, serviceId);
  } catch {
    return (s) => deps.redactor.redact(s);
  }
}

async function runBuild(ctx: JobContext): Promise<Record<string, unknown>> {
  const { deps, job, signal, saveResult } = ctx;
  const p = job.payload as unknown as BuildPayload;
  const image = repo.findImage(deps.db, p.imageId);
  if (!image) throw new Error(`image ${p.imageId} no longer exists`);
  const redact = redactorFor(deps, image.serviceId);
  const update = (patch: Parameters<typeof repo.updateImage>[2]) => {
    if (!signal.aborted) repo.updateImage(deps.db, image.id, { ...patch, updatedAt: isoNow(deps) });
  };
  const log = (line: string) => {
    // redact first, then cap: a cut must never split a secret into an unredacted prefix
    const safe = redact(line);
    if (!signal.aborted) repo.appendLog(deps.db, image.id, safe.length > MAX_LINE ? safe.slice(0, MAX_LINE) + " …[line truncated]" : safe, isoNow(deps));
  };
  const step = (name: string, extra: Record<string, unknown> = {}) => update({ buildStep: { name, ...extra } });
  const containers: string[] = [];
  const workDir = workDirOf(deps, image.id);
  try {
    return await withBuildSlot(
      deps,
      async () => {
        update({ status: "running", startedAt: isoNow(deps) });
        const chain = serviceChain(deps, image.serviceId);
        const { service } = chain;
        const names = { org: chain.org.slug, project: chain.project.slug, env: chain.env.slug, service: service.slug };
        const ref = `${image.repositoryName}:${image.tag}`;

        if (p.source === "image") {
          step("tag");
          const src = p.sourceImage!;
          log(`using pre-built image ${src}; no build`);
          const facts = await inspectImage(deps.docker, src);
          if (!facts) throw new BuildError(`Image '${src}' does not exist on this Docker host; load or pull it there first (Ancla never pulls).`);
          await tagImage(deps.docker, src, image.repositoryName, image.tag);
          log(`tagged ${src} as ${ref}`);
          update({ status: "complete", dockerImageId: facts.id, sizeBytes: facts.size, processes: { web: null }, imageMetadata: { ...facts.metadata, source_image: src }, buildStep: { name: "complete" }, finishedAt: isoNow(deps) });
          return { imageId: image.id, dockerImageId: facts.id };
        }

        let openContext: () => NodeJS.ReadableStream; // a build that goes again reads the context again
        let dockerfile: string | null;
        let procfile: string | null;
        const dockerfilePath = service.dockerfilePath || "Dockerfile";
        if (p.source === "git") {
          step("clone");
          mkdirSync(workDir, { recursive: true, mode: 0o700 });
          const checkedOut = (sha: string) => (update({ commitSha: sha }), log(`checked out commit ${sha}`));
          const git = { serviceId: service.id, gitUrl: p.gitUrl!, ref: p.ref ?? null, subdirectory: service.subdirectory, dockerfilePath };
          const ctx = await prepareGitContext(deps, git, workDir, { signal, log, checkedOut });
          ({ dockerfile, procfile } = ctx);
          openContext = () => contextStream(ctx.root, { dockerfile: dockerfilePath }) as unknown as NodeJS.ReadableStream;
        } else {
          if (!p.contextPath || !existsSync(p.contextPath)) throw new BuildError("The uploaded build context is no longer on disk.");
          // read Dockerfile and Procfile from the stored context itself (dockerfile_path may have changed since upload)
          const { files } = await inspectContext(createReadStream(p.contextPath), { limit: deps.config.maxContextSize, maxEntries: deps.config.maxContextEntries, capture: [dockerfilePath, "Procfile"] });
          dockerfile = files[contextPath(dockerfilePath)] ?? null;
          procfile = files.Procfile ?? null;
          openContext = () => createReadStream(p.contextPath!);
        }
        if (dockerfile === null) throw new BuildError(`No Dockerfile at '${dockerfilePath}' in the build context (set dockerfile_path if it lives elsewhere).`);
        const processes = parseProcfile(procfile);
        update({ dockerfile: redact(dockerfile), procfile: procfile === null ? null : redact(procfile), processes });
        log(procfile === null ? "no Procfile: one 'web' process running the image's CMD" : `Procfile process types: ${Object.keys(processes).join(", ")}`);

        const { args, withheld } = buildArgs(resolveServiceConfig(deps, service.id));
        if (Object.keys(args).length) log(`build args: ${Object.keys(args).sort().join(", ")}`);
        if (withheld.length) log(`withheld secret build-time variables (secrets are never passed to builds): ${withheld.join(", ")}`);

        step("build");
        const build = () => buildWithLabels(deps.docker, {
          context: openContext() as Readable,
          dockerfile,
          labels: imageLabels(names, image.version),
          maxEntries: deps.config.maxContextEntries,
          tag: ref,
          buildargs: args,
          signal,
          onEvent: (e) => {
            if (e.kind === "log") log(e.text);
            else if (e.kind === "step") step("build", { index: e.index, total: e.total, instruction: redact(e.instruction) });
            else if (e.kind === "container") {
              containers.push(e.id);
              saveResult({ containers: [...containers] }); // durable: an interrupted build's cleanup list
            }
          },
        });
        const dockerImageId = await retryingLostCache(build, (message) => log(`Docker lost an image its layer cache used while building (${redact(message)}); building again`));
        const facts = await inspectImage(deps.docker, dockerImageId);
        update({
          status: "complete",
          dockerImageId: facts?.id ?? dockerImageId,
          sizeBytes: facts?.size ?? null,
          imageMetadata: facts?.metadata ?? null,
          buildStep: { name: "complete" },
          finishedAt: isoNow(deps),
        });
        log(`built ${ref} (${facts?.id ?? dockerImageId})`);
        await applyRetention(deps, service, names, log).catch((e) => log(`retention skipped: ${(e as Error).message}`));
        return { imageId: image.id, dockerImageId: facts?.id ?? dockerImageId };
      },
      signal,
    );
  } catch (e) {
    if (signal.aborted) throw e; // the server is stopping: the next start finishes this build
    const detail = redact(e instanceof BuildError || e instanceof ProcfileError ? e.message : `${(e as Error).message || "build failed"}`);
    log(`error: ${detail}`);
    update({ status: "error", errorDetail: detail, finishedAt: isoNow(deps) });
    await removeContainers(deps.docker, containers).catch(() => {});
    throw new Error(detail);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    if (!signal.aborted) tidyContexts(deps, image.serviceId);
  }
}

/**
 * After a restart: finish the image as error, then remove what the build left behind. The image's
 * state comes first: a container the engine is slow to remove (or fails to) must not leave the
 * build `running` for good (the caller logs a cleanup that failed).
 */
async function cleanupInterruptedBuild(deps: Deps, job: JobRow): Promise<void> {
  const p = job.payload as unknown as BuildPayload;
  const image = repo.findImage(deps.db, p.imageId);
  const containers = Array.isArray(job.result?.containers) ? (job.result!.containers as string[]) : [];
  if (image && (image.status === "queued" || image.status === "running")) {
    const now = isoNow(deps);
    repo.updateImage(deps.db, image.id, { status: "error", errorDetail: INTERRUPTED, finishedAt: now, updatedAt: now });
    repo.appendLog(deps.db, image.id, `error: build ${INTERRUPTED}`, now);
  }
  rmSync(workDirOf(deps, p.imageId), { recursive: true, force: true });
  if (image) tidyContexts(deps, image.serviceId);
  if (!containers.length) return;
  await removeContainers(deps.docker, containers);
  if (image) repo.appendLog(deps.db, image.id, `removed ${containers.length} leftover build container(s)`, isoNow(deps));
}

export const buildJob: JobHandler = { run: runBuild, onInterrupted: cleanupInterruptedBuild };
