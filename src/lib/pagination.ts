// Page/per_page parsing and the {items, pagination} envelope of paginated lists.
import { z } from "zod";

export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(20),
});
export type PageQuery = z.infer<typeof pageQuery>;

export const paginationMeta = z.object({
  page: z.number().int(),
  per_page: z.number().int(),
  total: z.number().int(),
  total_pages: z.number().int(),
});

export const paginated = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), pagination: paginationMeta });

export function pageOf<T>(items: T[], total: number, q: PageQuery) {
  return {
    items,
    pagination: { page: q.page, per_page: q.per_page, total, total_pages: Math.ceil(total / q.per_page) },
  };
}

export const offsetOf = (q: PageQuery): number => (q.page - 1) * q.per_page;
