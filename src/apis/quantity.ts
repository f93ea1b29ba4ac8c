/**
 * Resource quantities as k8s.io/apimachinery/pkg/api/resource parses them ("500m", "1.5Gi", "2",
 * "1e3"): the value in base units (cores, bytes). Used by validation, the scheduler, QoS and the agent.
 */

/** The message the API server gives for a malformed quantity. */
export const QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

function scale(n: number, exp: number): number {
  // Dividing by an exact power of ten keeps "100m" and "0.1" bit-identical.
  return exp >= 0 ? n * 10 ** exp : n / 10 ** -exp;
}

/** Parses a quantity ("500m", "1.5Gi", "2", "1e3", or a JSON number); undefined when malformed. */
export function tryParseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/.exec(q);
  if (!m || !NUMBER.test(m[1])) return undefined;
  const n = Number(m[1]);
  const suffix = m[2];
  if (suffix in BINARY) return n * BINARY[suffix];
  if (suffix in DECIMAL) return scale(n, DECIMAL[suffix]);
  const e = /^[eE]([-+]?\d+)$/.exec(suffix);
  if (e) return scale(n, Number(e[1]));
  return undefined;
}

/** Parses a quantity, throwing on malformed input. */
export function parseQuantity(q: string | number): number {
  const v = tryParseQuantity(q);
  if (v === undefined) throw new Error(`${QUANTITY_MSG}: ${JSON.stringify(q)}`);
  return v;
}
