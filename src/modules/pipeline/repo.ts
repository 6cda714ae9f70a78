// Pipeline queries: pipeline jobs of a service, successful deployments, finished stage rows.
import { and, desc, eq, gte, inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import { deployments, images, jobs, releases } from "../../db/schema";

export const PIPELINE_JOB = "pipeline";

export const pipelineJobs = (db: Db, serviceId: string, limit: number) =>
  db
    .select()
    .from(jobs)
    .where(and(eq(jobs.serviceId, serviceId), eq(jobs.kind, PIPELINE_JOB)))
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(limit)
    .all();

/** Complete deployments of a service, newest first (the first one serves now). */
export const completeDeployments = (db: Db, serviceId: string, limit = 200) =>
  db
    .select()
    .from(deployments)
    .where(and(eq(deployments.serviceId, serviceId), eq(deployments.status, "complete")))
    .orderBy(desc(deployments.version))
    .limit(limit)
    .all();

export const finishedImagesSince = (db: Db, serviceId: string, since: string) =>
  db
    .select({ status: images.status, startedAt: images.startedAt, finishedAt: images.finishedAt })
    .from(images)
    .where(and(eq(images.serviceId, serviceId), inArray(images.status, ["complete", "error"]), gte(images.createdAt, since)))
    .all();

export const releasesSince = (db: Db, serviceId: string, since: string) =>
  db
    .select({ status: releases.status })
    .from(releases)
    .where(and(eq(releases.serviceId, serviceId), inArray(releases.status, ["complete", "error"]), gte(releases.createdAt, since)))
    .all();

export const finishedDeploymentsSince = (db: Db, serviceId: string, since: string) =>
  db
    .select({ status: deployments.status, startedAt: deployments.startedAt, finishedAt: deployments.finishedAt })
    .from(deployments)
    .where(and(eq(deployments.serviceId, serviceId), inArray(deployments.status, ["complete", "error"]), gte(deployments.createdAt, since)))
    .all();

/** Deployments of a release still waiting for their job (a pipeline stopped before it ran them). */
export const queuedDeploymentsOf = (db: Db, releaseId: string) =>
  db.select().from(deployments).where(and(eq(deployments.releaseId, releaseId), eq(deployments.status, "queued"))).all();
