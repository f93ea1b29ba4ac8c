/**
 * Test support for the API server's own tests: createApiServer on a real SQLite registry in a temp
 * dir (system namespaces created), and two clients — `request` (node:http) and `raw` (bytes on a
 * TCP socket, for targets and Upgrade requests node:http refuses to send).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../storage/index.ts';
import { Registry } from '../registry/registry.ts';
import { resourceTypes } from '../registry/kinds/index.ts';
import { createLogger } from '../util/log.ts';
import { createApiServer, type ApiServerOptions } from './server.ts';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
  /** Each Warning header, its bytes read as UTF-8 (as kubectl reads them). */
  warnings: string[];
}

export interface TestApiServer {
  url: string;
  port: number;
  registry: Registry;
  server: http.Server;
  /** Lines the server logged (JSON). */
  logs: string[];
  request(method: string, path: string, opts?: { body?: string | Buffer | object; headers?: Record<string, string> }): Promise<Reply>;
  /** Writes `text` as is and reads until the server closes or `idleMs` passes without data. */
  raw(text: string | Buffer, idleMs?: number): Promise<string>;
  close(): Promise<void>;
}

function parseJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return undefined; }
}

export async function startTestApiServer(extra: Partial<ApiServerOptions> = {}): Promise<TestApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-api-'));
  const backend = await openStore('sqlite', dir);
  const registry = new Registry(backend, resourceTypes());
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const logs: string[] = [];
  const log = createLogger({ level: 'warn', format: 'json', write: (l) => logs.push(l) });
  const server = createApiServer({ registry, version: 'test', log, ...extra });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: false });
  return {
    url: `http://127.0.0.1:${port}`, port, registry, server, logs,
    request(method, path, opts = {}) {
      const body = opts.body === undefined ? undefined
        : typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
      return new Promise((resolve, reject) => {
        // Node frames no body of a DELETE by itself: say its length.
        const length: Record<string, string> = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
        const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { 'content-type': 'application/json', ...length, ...opts.headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            const warnings: string[] = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) {
              if (res.rawHeaders[i].toLowerCase() === 'warning') warnings.push(Buffer.from(res.rawHeaders[i + 1], 'latin1').toString('utf8'));
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: parseJson(text), warnings });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    raw(text, idleMs = 2000) {
      return new Promise((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1');
        const chunks: Buffer[] = [];
        let timer: NodeJS.Timeout | undefined;
        const done = () => { clearTimeout(timer); sock.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); };
        const arm = () => { clearTimeout(timer); timer = setTimeout(done, idleMs); };
        sock.on('connect', () => { sock.write(text); arm(); });
        sock.on('data', (c: Buffer) => { chunks.push(c); arm(); });
        sock.on('end', done);
        sock.on('close', done);
        sock.on('error', (e) => (chunks.length ? done() : reject(e)));
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The status code and JSON body of a raw HTTP/1.1 response text. */
export function parseRawResponse(text: string): { status: number; headers: string; json: any } {
  const i = text.indexOf('\r\n\r\n');
  const head = i < 0 ? text : text.slice(0, i);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, headers: head, json: parseJson(i < 0 ? '' : text.slice(i + 4)) };
}
