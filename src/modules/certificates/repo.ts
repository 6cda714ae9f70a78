// Queries for certificates and ACME accounts (sealed columns stay sealed here; service.ts opens them).
import { eq, inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import { acmeAccounts, certificates, services } from "../../db/schema";

export type CertificateRow = typeof certificates.$inferSelect;

export const findCertificate = (db: Db, hostname: string) => db.select().from(certificates).where(eq(certificates.hostname, hostname)).get();

export const listCertificates = (db: Db, hostnames: string[]) =>
  hostnames.length ? db.select().from(certificates).where(inArray(certificates.hostname, hostnames)).all() : [];

export const issuedCertificates = (db: Db) => db.select().from(certificates).where(eq(certificates.status, "issued")).all();

/** The expiry of every issued certificate (the renewal check reads only this). */
export const issuedExpiries = (db: Db) =>
  db.select({ hostname: certificates.hostname, notAfter: certificates.notAfter }).from(certificates).where(eq(certificates.status, "issued")).all();

/** Insert or update one hostname's row. */
export function saveCertificate(db: Db, row: Partial<CertificateRow> & { hostname: string; status: string; updatedAt: string }): void {
  const { hostname, ...rest } = row;
  db.insert(certificates)
    .values({ createdAt: row.updatedAt, ...row })
    .onConflictDoUpdate({ target: certificates.hostname, set: rest })
    .run();
}

export const findAccount = (db: Db, directory: string) => db.select().from(acmeAccounts).where(eq(acmeAccounts.directory, directory)).get();

export const insertAccount = (db: Db, row: typeof acmeAccounts.$inferInsert) => db.insert(acmeAccounts).values(row).onConflictDoNothing().run();

export const setAccountUrl = (db: Db, directory: string, accountUrl: string) => db.update(acmeAccounts).set({ accountUrl }).where(eq(acmeAccounts.directory, directory)).run();

/** Every service's HTTPS redirect and HSTS settings, for the router. */
export const httpsPolicies = (db: Db): Map<string, { redirect: boolean; hsts: boolean }> =>
  new Map(db.select({ id: services.id, redirect: services.httpsRedirect, hsts: services.hsts }).from(services).all().map((s) => [s.id, { redirect: s.redirect, hsts: s.hsts }]));
