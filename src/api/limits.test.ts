/**
 * The body limit against a real API server with a client that sends 100 MB, declared up front
 * (Content-Length) and streamed (chunked): each gets a 413 Status, the server does not buffer the
 * body, and it keeps serving.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestApiServer, type TestApiServer } from './api-server.fixture.ts';
import { MAX_BODY_BYTES } from './limits.ts';

let api: TestApiServer;
before(async () => { api = await startTestApiServer(); });
after(async () => { await api.close(); });

const BODY_BYTES = 100 * 1024 * 1024;

/** POSTs `total` bytes of a ConfigMap's JSON in 1 MiB writes; resolves with the answer (or how the send ended). */
function sendHuge(declareLength: boolean, total = BODY_BYTES): Promise<{ status: number; json: any; sent: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (declareLength) headers['content-length'] = total;
    const req = http.request(`${api.url}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers });
    let sent = 0;
    let answered: { status: number; json: any; sent: number } | undefined;
    const chunk = Buffer.alloc(1024 * 1024, 'x'.charCodeAt(0));
    const head = Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge"},"data":{"a":"');
    const pump = (): void => {
      while (!answered && sent < total) {
        const piece = sent === 0 ? head : chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += piece.length;
        if (!req.write(piece)) { req.once('drain', pump); return; }
      }
      if (!answered) req.end();
    };
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        answered = { status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(parts).toString()), sent };
        resolve(answered);
        req.destroy();
      });
    });
    req.on('error', (err) => { if (!answered) reject(err); });
    pump();
  });
}

describe('request body limit', () => {
  for (const declared of [true, false]) {
    it(`a 100 MB body ${declared ? 'with Content-Length' : 'sent chunked'} gets a 413 Status without being buffered`, { timeout: 120_000 }, async (t) => {
      const rssBefore = process.memoryUsage().rss;
      const r = await sendHuge(declared);
      t.diagnostic(`answered after ${(r.sent / 1048576).toFixed(0)} MB sent; server RSS ${((process.memoryUsage().rss - rssBefore) / 1048576).toFixed(0)} MB up`);
      assert.equal(r.status, 413);
      assert.equal(r.json.kind, 'Status');
      assert.equal(r.json.reason, 'RequestEntityTooLarge');
      assert.equal(r.json.message, `Request entity too large: limit is ${MAX_BODY_BYTES}`);
      // The server (in this process) held at most the limit, not the body.
      const grown = process.memoryUsage().rss - rssBefore;
      assert.ok(grown < 50 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(0)} MB`);
      assert.equal((await api.request('GET', '/api/v1/namespaces/default/configmaps/huge')).status, 404);
      assert.equal((await api.request('GET', '/healthz')).body, 'ok');
    });
  }
});
