/**
 * PersistentVolume access modes in their short form, as helper.GetAccessModesAsString prints them:
 * fixed order RWO, ROX, RWX, RWOP, de-duplicated, comma-joined.
 */

const SHORT: [string, string][] = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];

/** `['ReadWriteMany','ReadWriteOnce']` → `RWO,RWX`; '' for none. Unknown modes are left out. */
export function accessModesAsString(modes: readonly string[] | undefined | null): string {
  const set = new Set(modes ?? []);
  return SHORT.filter(([long]) => set.has(long)).map(([, short]) => short).join(',');
}
