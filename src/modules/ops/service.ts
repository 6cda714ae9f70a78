// GET /api/v1/status: version, uptime, database size and schema, backups, Docker reachability,
// job queue depth and the router's state — each read cheaply (one Docker ping, bounded).
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Deps } from "../../deps";
import { DATABASE_FILE } from "../../lib/data-dir";
import { VERSION } from "../../lib/version";
import { migrationState } from "../../db/migrate";
import { routeTableOf } from "../../router/table";
import { backupDirOf, listBackups } from "../backups/service";
import { scheduleState } from "../backups/schedule";
import { runtimeOf } from "./runtime";
import { countPendingJobs } from "../../jobs/queue";
import type { StatusResponse } from "./model";

const DOCKER_PING_MS = 1500;
const processStarted = new Date(Date.now() - Math.round(process.uptime() * 1000));

const fileBytes = (path: string) => (existsSync(path) ? statSync(path).size : 0);

async function dockerReachable(deps: Deps): Promise<StatusResponse["docker"]> {
  try {
    const answer = await Promise.race([deps.targets.local.ping().then(() => "ok"), Bun.sleep(DOCKER_PING_MS).then(() => `no answer within ${DOCKER_PING_MS} ms`)]);
    return answer === "ok" ? { reachable: true, error: null } : { reachable: false, error: answer };
  } catch (e) {
    return { reachable: false, error: (e as Error).message };
  }
}

export async function serverStatus(deps: Deps): Promise<StatusResponse> {
  const now = deps.clock.now();
  const runtime = runtimeOf(deps);
  const started = runtime?.startedAt ?? processStarted;
  const dbFile = join(deps.config.dataDir, DATABASE_FILE);
  const state = migrationState(deps.sqlite);
  const backups = listBackups(backupDirOf(deps.config));
  const last = backups[0];
  const pending = countPendingJobs(deps);
  const queue = { queued: pending.filter((j) => j.status === "queued").reduce((n, j) => n + j.n, 0), running: pending.filter((j) => j.status === "running").reduce((n, j) => n + j.n, 0) };
  const table = routeTableOf(deps);
  const services = table.services();
  const schedule = scheduleState(deps);
  return {
    version: VERSION,
    pid: process.pid,
    started_at: started.toISOString(),
    uptime_seconds: Math.max(0, Math.floor((Date.now() - started.getTime()) / 1000)),
    reloading: runtime?.reloading ?? false,
    // the WAL holds committed pages not yet checkpointed into the main file: both are the database
    database: { path: dbFile, bytes: fileBytes(dbFile) + fileBytes(`${dbFile}-wal`), schema: state.schema, migrations: state.applied },
    backups: {
      last: last ? { ...last, age_seconds: Math.max(0, Math.floor((now.getTime() - new Date(last.created_at).getTime()) / 1000)) } : null,
      count: backups.length,
      every_seconds: schedule.every_seconds,
      keep: schedule.keep,
      dir: schedule.dir,
      include_key: schedule.include_key,
      next_due_at: schedule.next_due_at,
      last_error: schedule.last_error,
    },
    docker: await dockerReachable(deps),
    queue: { queued: queue.queued ?? 0, running: queue.running ?? 0 },
    router: {
      listening: Boolean(runtime?.router),
      url: runtime?.router?.url ?? null,
      https_port: runtime?.router?.httpsPort ?? null,
      hostnames: table.hostCount(),
      services: services.length,
      replicas: services.reduce((n, id) => n + table.replicasOf(id).length, 0),
    },
  };
}

