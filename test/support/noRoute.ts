/**
 * Whether an answer is the server's "no route for …" 404: nothing is mounted at that method and
 * path (a route that is mounted answers 401, 400 or its own 404 `not_found` instead). Tests that
 * compare the documented routes with the served ones probe with it.
 */
export const isNoRoute = (reply: { readonly status: number; readonly body: unknown }): boolean => {
  const detail = (reply.body as { detail?: unknown }).detail;
  return reply.status === 404 && typeof detail === 'string' && detail.startsWith('no route');
};
