import type { ReadModelDb } from '../readModelDb.js';
import type { AppRow } from './appsProjection.js';

export type AppSort = 'score' | 'name' | 'registered';

/** Apps for the operator's overview: lowest score first by default, optionally one status only. */
export const listApps = (
  db: ReadModelDb,
): ((options: { sort: AppSort; status?: AppRow['status']; limit: number }) => AppRow[]) => {
  const order: Record<AppSort, string> = {
    score: 'score ASC, app_id',
    name: 'name COLLATE NOCASE, app_id',
    registered: 'registered_at DESC, app_id',
  };
  const statements = new Map(
    (Object.keys(order) as AppSort[]).map((sort) => [
      sort,
      db.prepare<[string | null, string | null, number], AppRow>(
        `SELECT * FROM apps WHERE (? IS NULL OR status = ?) ORDER BY ${order[sort]} LIMIT ?`,
      ),
    ]),
  );
  return ({ sort, status, limit }) =>
    statements.get(sort)?.all(status ?? null, status ?? null, limit) ?? [];
};
