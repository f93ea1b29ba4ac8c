/**
 * Small HTTP helpers shared by the API handlers: JSON replies, Status errors, warnings, and request
 * bodies read with a size limit.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { ApiError, errors, type Status } from '../errors/index.ts';
import { decodeKubernetesProtobuf, unknownFieldWarnings, type DecodedProtobufObject } from './protobuf/decode.ts';

/** Kubernetes' limit on request bodies (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

/** Any error as the ApiError a client sees: a non-ApiError is Berth's own fault, a 500. */
export function toApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : errors.internal((err as Error)?.message ?? String(err));
}

/** Answers with the error's Status (the handler chain logs 500s); a started response is cut. */
export function sendError(res: ServerResponse, err: unknown): void {
  const apiErr = toApiError(err);
  if (res.headersSent) { res.destroy(); return; }
  sendJson(res, apiErr.http, apiErr.toStatus());
}

/** The same answer on the raw socket of an Upgrade request that was refused. */
export function writeUpgradeError(socket: Duplex, err: unknown): void {
  if (!socket.writable) { socket.destroy(); return; }
  const e = toApiError(err);
  const body = JSON.stringify(e.toStatus());
  socket.end(`HTTP/1.1 ${e.http} ${STATUS_CODES[e.http] ?? e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Adds `Warning: 299 - "…"` headers, which kubectl prints. */
export function addWarnings(res: ServerResponse, warnings: string[]): void {
  if (!warnings.length) return;
  res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
}

/** Reads the whole body, failing with 413 past `limit` bytes (the connection is drained, not read). */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(errors.tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) { failed = true; reject(errors.tooLarge(limit)); return; }
      chunks.push(c);
    });
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks)); });
    req.on('error', (e) => { if (!failed) { failed = true; reject(e); } });
  });
}

/**
 * Decodes a JSON (or YAML) body into a value; 400 with the parser's message on bad syntax.
 * Protobuf field numbers no Kubernetes version defines are dropped; `warnings`, when given,
 * receives one text per dropped field.
 */
export function decodeBody(buf: Buffer, contentType: string | undefined, warnings?: string[]): unknown {
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/vnd.kubernetes.protobuf') {
    // kubectl's typed commands (create configmap/secret/namespace/deployment …) send protobuf.
    let decoded: DecodedProtobufObject;
    try {
      decoded = decodeKubernetesProtobuf(buf);
    } catch (err) {
      throw errors.badRequest((err as Error).message);
    }
    warnings?.push(...unknownFieldWarnings(decoded.unknownFields));
    return decoded.object;
  }
  if (type.includes('protobuf') || type.includes('cbor')) {
    throw new ApiError('BERTH_UNSUPPORTED_MEDIA_TYPE', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got ${type})`);
  }
  const text = buf.toString('utf8');
  if (!text.trim()) throw errors.badRequest('request body is empty');
  try {
    if (type.endsWith('yaml')) return parseYaml(text);
    return JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`couldn't decode the request body: ${(err as Error).message}`);
  }
}
