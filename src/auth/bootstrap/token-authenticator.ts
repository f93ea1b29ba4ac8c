/**
 * The bootstrap token authenticator (plugin/pkg/auth/authenticator/token/bootstrap): a bearer token
 * of the form `<id>.<secret>` is looked up as the Secret `kube-system/bootstrap-token-<id>` and
 * authenticates as `system:bootstrap:<id>` in `system:bootstrappers` (+ its extra groups) when the
 * Secret is of the bootstrap type, not being deleted, holds the same secret (compared in constant
 * time), has not expired and is marked for authentication. Anything else about such a token is a
 * 401; a token of another form is left to the next authenticator.
 */
import { timingSafeEqual } from 'node:crypto';
import type { KubeObject } from '../../apis/object.ts';
import { errors } from '../../errors/index.ts';
import type { UserInfo } from '../attributes.ts';
import type { TokenAuthenticator } from '../authn/authenticator.ts';
import {
  BOOTSTRAP_TOKEN_SECRET_TYPE, BOOTSTRAP_USER_PREFIX, KEY, bootstrapTokenSecretName, parseBootstrapToken, secretData,
  tokenGroups, tokenHasExpired,
} from './bootstrap-token.ts';

/** Reads a kube-system Secret by name; undefined when there is none. */
export type SecretGetter = (name: string) => Promise<KubeObject | undefined>;

/** Why a token was refused, for the server's log (never the client's answer: that is a bare 401). */
export type RefusalLog = (why: string, tokenId: string) => void;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class BootstrapTokenAuthenticator implements TokenAuthenticator {
  constructor(private readonly getSecret: SecretGetter, private readonly onRefused: RefusalLog = () => {}, private readonly now: () => Date = () => new Date()) {}

  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    const t = parseBootstrapToken(token);
    if (!t) return undefined;
    const refuse = (why: string) => {
      this.onRefused(why, t.id);
      return errors.unauthorized();
    };
    const secret = await this.getSecret(bootstrapTokenSecretName(t.id));
    if (!secret) throw refuse('no bootstrap token secret');
    if (secret.metadata.deletionTimestamp) throw refuse('the secret is being deleted');
    if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || !secret.data) throw refuse(`the secret is not of type ${BOOTSTRAP_TOKEN_SECRET_TYPE}`);
    if (!sameText(secretData(secret, KEY.secret), t.secret)) throw refuse('wrong token secret');
    if (secretData(secret, KEY.id) !== t.id) throw refuse(`the secret's ${KEY.id} does not match`);
    if (tokenHasExpired(secret, this.now())) throw refuse('the token has expired');
    if (secretData(secret, KEY.usageAuthentication) !== 'true') throw refuse(`the secret is not marked ${KEY.usageAuthentication}=true`);
    const groups = tokenGroups(secret);
    if (groups instanceof Error) throw refuse(groups.message);
    return { name: BOOTSTRAP_USER_PREFIX + t.id, groups };
  }
}
