// Promotion queries.
import { desc, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { promotions } from "../../db/schema";

export type PromotionRow = typeof promotions.$inferSelect;

export const insertPromotion = (db: Db, row: typeof promotions.$inferInsert) => db.insert(promotions).values(row).returning().get();
export const findPromotion = (db: Db, id: string) => db.select().from(promotions).where(eq(promotions.id, id)).get();
export const updatePromotion = (db: Db, id: string, patch: Partial<typeof promotions.$inferInsert>) =>
  db.update(promotions).set(patch).where(eq(promotions.id, id)).returning().get()!;
export const listPromotions = (db: Db, projectId: string, limit: number) =>
  db.select().from(promotions).where(eq(promotions.projectId, projectId)).orderBy(desc(promotions.createdAt), desc(promotions.id)).limit(limit).all();
