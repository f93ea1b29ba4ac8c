/**
 * The API's timestamp formats (k8s.io/apimachinery/pkg/apis/meta/v1 Time and MicroTime):
 * `2026-12-06T07:22:18Z` for every `…Time`/`…Timestamp` field, microseconds for MicroTime fields
 * (Lease renewTime, events.k8s.io eventTime).
 */

/** metav1.Time: RFC 3339 with seconds precision. */
export function rfc3339(at: Date | number = Date.now()): string {
  return new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with microseconds (JavaScript clocks give milliseconds: 000 is appended). */
export function rfc3339Micro(at: Date | number = Date.now()): string {
  return new Date(at).toISOString().replace(/Z$/, '000Z');
}
