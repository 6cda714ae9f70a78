// TLS certificates from ACME, one row per hostname, and the ACME account per directory. The
// certificate chain, its private key and the account key are sealed (AES-256-GCM under the master
// key, `enc:v1:` tokens that key rotation finds by itself) and never leave the server's process.
import { sqliteTable, text, integer } from "drizzle-orm/sqlite-core";

export const certificates = sqliteTable("certificates", {
  hostname: text("hostname").primaryKey(),
  /** pending (waiting or being issued), issued, failed (error says why; retried at next_attempt_at) */
  status: text("status").notNull(),
  error: text("error"),
  certSealed: text("cert_sealed"),
  keySealed: text("key_sealed"),
  notBefore: text("not_before"),
  notAfter: text("not_after"),
  /** failed attempts in a row; sets the back-off before the next one */
  failures: integer("failures").notNull().default(0),
  lastAttemptAt: text("last_attempt_at"),
  nextAttemptAt: text("next_attempt_at"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const acmeAccounts = sqliteTable("acme_accounts", {
  directory: text("directory").primaryKey(),
  email: text("email").notNull(),
  keySealed: text("key_sealed").notNull(),
  accountUrl: text("account_url"),
  createdAt: text("created_at").notNull(),
});
