import { expect } from 'chai';
import type { FuzzCase } from '../../../devtools/apiFuzz/fuzzCase.js';
import { describeApi } from '../../../devtools/apiFuzz/openApiDocument.js';
import { reachedBy } from '../../../devtools/apiFuzz/oracle.js';

/**
 * What a fuzzed request reaches is judged from the path it really sent: an empty path parameter
 * or a literal segment another template takes as a parameter sends it to another operation, or to
 * a path without its method (found when the fuzz suite first ran against the 405 of issue 12).
 */
const answers = { responses: { 200: { description: 'ok' } } };
const api = describeApi({
  openapi: '3.1.0',
  info: { title: 'routes', version: '1' },
  paths: {
    '/messages/batch': { post: answers },
    '/messages/{id}': { get: answers, delete: answers },
    '/complaints': { get: answers },
    '/complaints/{id}': { delete: answers },
  },
  components: { schemas: { Problem: { properties: { code: { enum: ['not_found'] } } } } },
});

const caseOn = (method: string, path: string): FuzzCase =>
  ({ operation: { method, path }, method }) as unknown as FuzzCase;

describe('API fuzzer: what a request reaches', () => {
  it('the case’s own operation when its path is what it sent', () => {
    const reached = reachedBy(api, caseOn('delete', '/messages/{id}'), '/messages/m-1');
    expect(reached.kind === 'operation' && reached.operation.path).to.equal('/messages/{id}');
  });

  it('another template’s operation for a method the own path lacks (GET /messages/batch)', () => {
    const reached = reachedBy(api, caseOn('get', '/messages/batch'), '/messages/batch');
    expect(reached.kind === 'operation' && reached.operation.path).to.equal('/messages/{id}');
  });

  it('405 with the methods of every path it matches when none has the method', () => {
    const reached = reachedBy(api, caseOn('put', '/messages/batch'), '/messages/batch');
    expect(reached).to.deep.equal({
      kind: 'method not allowed',
      methods: ['post', 'get', 'delete'],
    });
  });

  it('the shorter path for an empty parameter with a trailing slash (DELETE /complaints/)', () => {
    expect(reachedBy(api, caseOn('delete', '/complaints/{id}'), '/complaints/')).to.deep.equal({
      kind: 'method not allowed',
      methods: ['get'],
    });
  });

  it('nothing for a path no template matches', () => {
    expect(reachedBy(api, caseOn('get', '/messages/{id}'), '/messages/a/b')).to.deep.equal({
      kind: 'no path',
    });
  });
});
