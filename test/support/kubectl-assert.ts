/**
 * Assertions and parsers for kubectl output, with failure messages that show the whole invocation.
 */
import assert from 'node:assert/strict';
import type { KubectlResult } from './kubectl.ts';

function describeResult(res: KubectlResult): string {
  return `exit ${res.code}\n--- stdout ---\n${res.stdout}\n--- stderr ---\n${res.stderr}`;
}

/** Assert kubectl exited 0; returns its stdout. */
export function assertOk(res: KubectlResult, what: string): string {
  assert.equal(res.code, 0, `${what}: expected success, got ${describeResult(res)}`);
  return res.stdout;
}

/** Assert kubectl exited non-zero and stderr matches every pattern; returns stderr. */
export function assertFails(res: KubectlResult, what: string, ...patterns: RegExp[]): string {
  assert.notEqual(res.code, 0, `${what}: expected failure, got ${describeResult(res)}`);
  for (const p of patterns) {
    assert.match(res.stderr, p, `${what}: stderr should match ${p}; got ${describeResult(res)}`);
  }
  return res.stderr;
}

/** Non-empty, trimmed stdout lines. */
export function lines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
}

/** Split one line of kubectl's column output (columns are separated by 2+ spaces). */
export function columns(line: string): string[] {
  return line.trim().split(/\s{2,}/);
}

/** Parsed table output of `kubectl get`: header cells and rows of cells. */
export interface ParsedTable {
  header: string[];
  rows: string[][];
}

/**
 * Parse `kubectl get` table output. Rows are cut at the header's column start positions (kubectl
 * left-aligns every column), so empty cells come back as ''.
 */
export function parseTable(stdout: string): ParsedTable {
  const ls = lines(stdout);
  assert.ok(ls.length > 0, `expected table output, got empty stdout`);
  const headerLine = ls[0]!;
  const header = columns(headerLine);
  const starts: number[] = [];
  let from = 0;
  for (const h of header) {
    const at = headerLine.indexOf(h, from);
    starts.push(at);
    from = at + h.length;
  }
  const rows = ls.slice(1).map((line) =>
    starts.map((start, i) => line.slice(start, i + 1 < starts.length ? starts[i + 1] : undefined).trim()),
  );
  return { header, rows };
}

/** Parse JSON output, failing with the raw text when it is not JSON. */
export function parseJson<T = any>(stdout: string, what: string): T {
  try {
    return JSON.parse(stdout) as T;
  } catch (err) {
    assert.fail(`${what}: output is not JSON (${String(err)}):\n${stdout}`);
  }
}
