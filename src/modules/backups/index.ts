// Routes: /api/v1/admin/backups — list the scheduled backups and take one now (server admins).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { withActor } from "../auth/context";
import { requireServerAdmin } from "../auth/service";
import { scheduleState } from "./schedule";
import { backupDirOf, listBackups, pruneBackupDir, writeBackup } from "./service";

const backupItem = z.object({ file: z.string(), created_at: z.string(), bytes: z.number().int() });
const backupList = z.object({
  items: z.array(backupItem),
  schedule: z.object({ every_seconds: z.number().nullable(), keep: z.number().int(), dir: z.string(), include_key: z.boolean(), next_due_at: z.string().nullable(), last_error: z.string().nullable() }),
});

export const backupRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/admin/backups", detail: { tags: ["admin"] } })
    .use(withActor(deps))
    .get("/", ({ actor }) => (requireServerAdmin(actor), { items: listBackups(backupDirOf(deps.config)), schedule: scheduleState(deps) }), {
      response: { 200: backupList },
      detail: { summary: "Backups in the backup directory, newest first, and the schedule" },
    })
    .post(
      "/",
      async ({ actor, set }) => {
        requireServerAdmin(actor);
        const b = await writeBackup(deps, { includeKey: deps.config.backupIncludeKey });
        pruneBackupDir(backupDirOf(deps.config), deps.config.backupKeep);
        set.status = 201;
        return { file: b.file, created_at: b.created_at, bytes: b.bytes };
      },
      { response: { 201: backupItem }, detail: { summary: "Write a backup now (kept like scheduled ones)" } },
    );
