// Config variables at five scopes; secret values hold AES-256-GCM ciphertext.
import { sqliteTable, text, integer, uniqueIndex } from "drizzle-orm/sqlite-core";

export const configScopes = ["organization", "team", "project", "environment", "service"] as const;
export type ConfigScope = (typeof configScopes)[number];

export const configVars = sqliteTable(
  "config_vars",
  {
    id: text("id").primaryKey(),
    scope: text("scope", { enum: configScopes }).notNull(),
    // id of the organization, team, project, environment or service the variable belongs to
    scopeId: text("scope_id").notNull(),
    name: text("name").notNull(),
    value: text("value").notNull(),
    secret: integer("secret", { mode: "boolean" }).notNull().default(false),
    buildtime: integer("buildtime", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("config_vars_scope_name_idx").on(t.scope, t.scopeId, t.name)],
);

/** Server-wide key/value settings (webhook secret, master key check value, …). */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: text("updated_at").notNull(),
});
