// Sampled resource usage: one series per replica slot (service, process, replica number), raw
// samples for 24 h and 5-minute rollups for 30 days. Rows are integers only and keyed by
// (series, time): the migration creates both sample tables WITHOUT ROWID (drizzle cannot say so),
// which stores each row once in its primary key b-tree instead of a table plus an index.
import { sqliteTable, text, integer, primaryKey, uniqueIndex } from "drizzle-orm/sqlite-core";
import { services } from "./projects";

export const usageSeries = sqliteTable(
  "usage_series",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    serviceId: text("service_id").notNull().references(() => services.id, { onDelete: "cascade" }),
    process: text("process").notNull(),
    replica: integer("replica").notNull(),
  },
  (t) => [uniqueIndex("usage_series_slot_idx").on(t.serviceId, t.process, t.replica)],
);

/** One row per replica per tick. ts: unix seconds; cpu: millicores (null on a container's first tick); rx/tx: bytes since the previous tick. */
export const usageSamples = sqliteTable(
  "usage_samples",
  {
    seriesId: integer("series_id").notNull().references(() => usageSeries.id, { onDelete: "cascade" }),
    ts: integer("ts").notNull(),
    cpu: integer("cpu"),
    mem: integer("mem"),
    rx: integer("rx"),
    tx: integer("tx"),
    restarts: integer("restarts").notNull(),
    /** 1 running, 0 anything else (the replica was expected but not running) */
    running: integer("running").notNull(),
  },
  (t) => [primaryKey({ columns: [t.seriesId, t.ts] })],
);

/** 5-minute aggregates of usage_samples. ts: bucket start; n: samples in it; running: samples that were running. */
export const usageRollups = sqliteTable(
  "usage_rollups",
  {
    seriesId: integer("series_id").notNull().references(() => usageSeries.id, { onDelete: "cascade" }),
    ts: integer("ts").notNull(),
    n: integer("n").notNull(),
    running: integer("running").notNull(),
    cpuAvg: integer("cpu_avg"),
    cpuMax: integer("cpu_max"),
    memAvg: integer("mem_avg"),
    memMax: integer("mem_max"),
    rx: integer("rx"),
    tx: integer("tx"),
    restarts: integer("restarts").notNull(),
  },
  (t) => [primaryKey({ columns: [t.seriesId, t.ts] })],
);
