/**
 * `$(VAR)` expansion as the kubelet does it for env values, command/args and subPathExpr
 * (third_party/forked/golang/expansion): `$$` is an escaped `$`, an undefined `$(VAR)` stays as
 * written, and a `$` not followed by `(` or `$` is kept literally.
 */

/** Expands `$(NAME)` references in `input` using `lookup` (undefined = leave the reference as is). */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        // No closing paren: emit "$(" and carry on scanning after it.
        out += '$(';
        i += 2;
        continue;
      }
      const name = input.slice(i + 2, close);
      const value = lookup(name);
      out += value === undefined ? `$(${name})` : value;
      i = close + 1;
    } else {
      out += '$' + next;
      i += 2;
    }
  }
  return out;
}

/** Expands `$(VAR)` in each element of a command or args list against the container's env. */
export function expandArgs(argv: readonly string[], env: Readonly<Record<string, string>>): string[] {
  const lookup = (n: string) => (Object.prototype.hasOwnProperty.call(env, n) ? env[n] : undefined);
  return argv.map((a) => expandVars(a, lookup));
}
