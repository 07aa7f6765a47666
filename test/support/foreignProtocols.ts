/**
 * The served API document without the operations of a foreign protocol (`x-tidings-protocol`:
 * the compatible ingress, which speaks Bark's and ntfy's protocols). The tests that hold every
 * operation to the problem+json contract (its errors, its 405s, its probes with `x` for each
 * parameter) read this; those operations answer as bark-server and ntfy answer by design, and
 * test/server/compatIngress.test.ts and the compatible-ingress case of openapiServed.test.ts
 * check them instead.
 */
export const withoutForeignProtocols = <
  D extends { readonly paths: Record<string, Record<string, unknown>> },
>(
  document: D,
): D => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, item] of Object.entries(document.paths)) {
    const own = Object.entries(item).filter(
      ([, operation]) =>
        typeof operation !== 'object' || operation === null || !('x-tidings-protocol' in operation),
    );
    if (own.length > 0) paths[path] = Object.fromEntries(own);
  }
  return { ...document, paths };
};

/** The `METHOD /path` of every operation of a foreign protocol in the document. */
export const foreignOperations = (document: {
  readonly paths: Record<string, Record<string, unknown>>;
}): string[] =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(
        ([, operation]) =>
          typeof operation === 'object' && operation !== null && 'x-tidings-protocol' in operation,
      )
      .map(([method]) => `${method.toUpperCase()} ${path}`),
  );
