/**
 * The join token a server writes to DATA/join-token and `berth join` reads — k3s's secure token
 * format: `K10<ca-hash>::<token-id>.<token-secret>`, where <ca-hash> is the hex SHA-256 of the
 * cluster CA's public key (kubeadm's `--discovery-token-ca-cert-hash sha256:<hash>`) and the rest is a
 * bootstrap token. The hash lets a joining node trust the server it fetched the CA from; the
 * bootstrap token authenticates it until it has a certificate of its own.
 */
import { formatBootstrapToken, parseBootstrapToken, type BootstrapToken } from './bootstrap-token.ts';

export interface JoinToken {
  /** `sha256:<hex>`, as caPin computes it. */
  caPin: string;
  token: BootstrapToken;
}

const PREFIX = 'K10';

export function formatJoinToken(t: JoinToken): string {
  const hex = t.caPin.replace(/^sha256:/, '');
  return `${PREFIX}${hex}::${formatBootstrapToken(t.token)}`;
}

/** Parses a join token; the error says what is wrong (for `berth join`'s message). */
export function parseJoinToken(text: string): JoinToken {
  const s = text.trim();
  const m = /^K10([0-9a-f]{64})::(.+)$/.exec(s);
  if (!m) throw new Error('not a join token: expected K10<64 hex digits of the CA hash>::<token-id>.<token-secret>');
  const token = parseBootstrapToken(m[2]);
  if (!token) throw new Error('not a join token: the part after "::" must be a bootstrap token <6 of [a-z0-9]>.<16 of [a-z0-9]>');
  return { caPin: `sha256:${m[1]}`, token };
}
