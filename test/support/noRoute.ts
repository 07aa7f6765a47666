/**
 * Whether an answer is the server's "nothing here" answer for that method and path: the "no route
 * for …" 404 (no route at the path) or the 405 `method_not_allowed` (the path is served, under
 * other methods). A route that is mounted answers 401, 400 or its own 404 `not_found` instead.
 * Tests that compare the documented routes with the served ones probe with it.
 */
export const isNoRoute = (reply: { readonly status: number; readonly body: unknown }): boolean => {
  const { detail, code } = reply.body as { detail?: unknown; code?: unknown };
  if (reply.status === 405) return code === 'method_not_allowed';
  return reply.status === 404 && typeof detail === 'string' && detail.startsWith('no route');
};
