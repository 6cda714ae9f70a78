// The one place where the feature modules are wired together: the handler of every kind of queued
// job, and the hooks through which a lower module reaches a higher one without importing it (see
// src/ARCHITECTURE.md). createApp calls it; so must anything that runs jobs or calls services
// without an app. Handlers and hooks are code, not state: wiring once serves every server.
import { registerJobHandler } from "../jobs/queue";
import { BUILD_JOB } from "./images/service";
import { buildJob } from "./images/build-job";
import { DEPLOY_JOB, enqueueScale } from "./deployments/service";
import { deployJob } from "./deployments/runner";
import { replicaViews } from "./deployments/replicas";
import { knownProcessTypes } from "./deployments/scale-counts";
import { teardownInBackground, teardownProjectInBackground } from "./deployments/routing";
import { PIPELINE_JOB } from "./pipeline/repo";
import { pipelineJob } from "./pipeline/runner";
import { latestActivity, latestVersions } from "./pipeline/latest";
import { deleteConfigBelow } from "./config-vars/repo";
import { createDefaultEnv } from "./envs/service";
import { listEnvs, serviceIdsIn } from "./envs/repo";
import { projectHooks } from "./projects/hooks";
import { envHooks } from "./envs/hooks";
import { serviceHooks } from "./services/hooks";
import { imageHooks } from "./images/hooks";
import { gitAuthFor } from "./integrations/git-credentials";
import { removeVolumesLater } from "./exec/volumes";

let wired = false;

export function wireModules(): void {
  if (wired) return;
  wired = true;
  registerJobHandler(BUILD_JOB, buildJob);
  registerJobHandler(DEPLOY_JOB, deployJob);
  registerJobHandler(PIPELINE_JOB, pipelineJob);
  projectHooks.set({
    created: (db, project, now) => void createDefaultEnv(db, project.id, now),
    deleting: (db, projectId) => deleteConfigBelow(db, "project", projectId),
    leaving: (deps, projectId) => {
      const envs = listEnvs(deps.db, projectId).map(({ env }) => ({ env, serviceIds: serviceIdsIn(deps.db, env.id) }));
      return () => teardownProjectInBackground(deps, projectId, envs);
    },
  });
  envHooks.set({
    deleting: (db, envId) => deleteConfigBelow(db, "environment", envId),
    servicesRemoved: teardownInBackground,
  });
  imageHooks.set({ gitAuth: gitAuthFor });
  serviceHooks.set({
    deleting: (db, serviceId) => deleteConfigBelow(db, "service", serviceId),
    processTypes: knownProcessTypes,
    scaled: (deps, access) => void enqueueScale(deps, access),
    replicas: replicaViews,
    latest: latestActivity,
    latestVersions,
    volumesRemoved: removeVolumesLater,
  });
}
