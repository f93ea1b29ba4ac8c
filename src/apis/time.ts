/**
 * The API's timestamp formats (k8s.io/apimachinery/pkg/apis/meta/v1 Time and MicroTime):
 * `2026-12-06T07:22:18Z` for every `…Time`/`…Timestamp` field, microseconds for MicroTime fields
 * (Lease renewTime, events.k8s.io eventTime).
 */

// The last second formatted: most calls stamp "now", many within one second (bench sched's profile
// had formatting at 1.2 % of the API server's thread while binding).
let lastSecond = NaN;
let lastText = '';

/** metav1.Time: RFC 3339 with seconds precision. */
export function rfc3339(at: Date | number = Date.now()): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastText = new Date(second * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    lastSecond = second;
  }
  return lastText;
}

/** metav1.MicroTime: RFC 3339 with microseconds (JavaScript clocks give milliseconds: 000 is appended). */
export function rfc3339Micro(at: Date | number = Date.now()): string {
  return new Date(at).toISOString().replace(/Z$/, '000Z');
}
