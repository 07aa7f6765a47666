/**
 * Where a page may send the browser after logging in: only a path on this server. Anything else
 * (another host, `//host`, a backslash trick, a scheme) falls back to `fallback`, so `next` can
 * never be used to bounce people to another site.
 */
export const localPath = (next: unknown, fallback = '/inbox'): string => {
  if (typeof next !== 'string' || next.length === 0 || next.length > 4_096) return fallback;
  // Escapes that are not UTF-8 (see `parseQuery`) would come out of the URL parser as U+FFFD.
  if (!next.isWellFormed()) return fallback;
  if (!next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return fallback;
  // Control characters (a tab or newline inside `//`) are dropped by URL parsers: refuse them.
  for (let index = 0; index < next.length; index += 1) {
    const code = next.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return fallback;
  }
  const base = 'http://tidings.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return fallback;
  }
  if (url.origin !== base) return fallback;
  // Dot segments are resolved by the parse (`/.//host` becomes `//host`): check what comes out.
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (path.startsWith('//') || path.includes('\\')) return fallback;
  return path;
};

/** The login page that comes back to `path` afterwards. */
export const loginFor = (path: string): string => `/login?next=${encodeURIComponent(path)}`;
