// An HttpClient (the port Tidings hands a channel as context.http) over fetch, for tests against
// a local server: like Tidings' own client it never throws and follows no redirect.

/** @returns {import('tidings/plugin').HttpClient} */
export const fetchClient = () => ({
  async request(request) {
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(request.timeoutMs ?? 5000),
      });
      return {
        kind: 'answered',
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: await response.text(),
      };
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError')
        return { kind: 'timed_out', timeoutMs: request.timeoutMs ?? 5000 };
      return {
        kind: 'failed',
        code: 'ERR_UNKNOWN',
        message: error instanceof Error ? error.message : String(error),
      };
    }
  },
});
