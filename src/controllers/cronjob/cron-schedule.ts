/**
 * CronJob schedule math (pkg/controller/cronjob/utils.go): the next schedule time, the most recent
 * unmet schedule time since the last one (bounded by startingDeadlineSeconds) and how many were
 * missed, and the Job name for a scheduled time. Standard five-field cron plus the descriptors
 * robfig/cron accepts (@yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly, @every
 * <duration>), evaluated in `timeZone` (default UTC) through cron-parser.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';

const ALIASES: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A parsed schedule: the first schedule time strictly after a given instant. */
export interface Schedule {
  next(after: Date): Date;
}

/** Parses a Go duration such as `1h30m` into milliseconds. */
function goDurationMs(s: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed += m[0].length;
  }
  if (consumed !== s.length || total <= 0) throw new Error(`invalid duration ${s}`);
  return total;
}

/** Parses `schedule` in `timeZone` (IANA name; UTC when unset). Throws on a bad schedule. */
export function parseSchedule(schedule: string, timeZone?: string | null): Schedule {
  const s = schedule.trim();
  if (s.startsWith('@every ')) {
    // robfig/cron ConstantDelaySchedule: at least one second, whole seconds, from the given instant.
    const every = Math.max(1000, Math.floor(goDurationMs(s.slice(7).trim()) / 1000) * 1000);
    return { next: (after) => new Date(Math.floor(after.getTime() / 1000) * 1000 + every) };
  }
  const expr = ALIASES[s.toLowerCase()] ?? s;
  if (expr.split(/\s+/).length !== 5) throw new Error(`expected exactly 5 fields, found ${expr.split(/\s+/).length}: ${s}`);
  const tz = timeZone || 'UTC';
  // Validate now so a bad expression throws here rather than on first use.
  CronExpressionParser.parse(expr, { currentDate: new Date(0), tz });
  // A walk from one schedule time to the next (mostRecentScheduleTime) goes on with the same
  // iterator: a parse costs several times a step (cron-parser 5.10, */5 in Europe/Berlin: parse +
  // next ~700 µs; 4.9, which parsed for every step, ~5 ms, load 6).
  let it: CronExpression | undefined;
  let last = NaN;
  return {
    next(after) {
      if (!it || after.getTime() !== last) it = CronExpressionParser.parse(expr, { currentDate: after, tz });
      const t = it.next().toDate();
      last = t.getTime();
      return t;
    },
  };
}

/** The outcome of {@link mostRecentScheduleTime}. */
export interface MissedSchedules {
  /** The latest schedule time in (earliest, now], if any. */
  mostRecent?: Date;
  /** How many schedule times fell in (earliest, now] (capped a little above 100). */
  missed: number;
}

/** The inputs of {@link mostRecentScheduleTime}, all as a CronJob carries them. */
export interface ScheduleWindow {
  creationTimestamp?: string;
  lastScheduleTime?: string;
  startingDeadlineSeconds?: number | null;
}

/** Past this many missed schedules the controller records TooManyMissedTimes. */
export const TOO_MANY_MISSED = 100;

/**
 * getMostRecentScheduleTime: from the last schedule time (else creation), or `now −
 * startingDeadlineSeconds` when later, the most recent schedule time not after `now` and how many
 * schedule times were missed.
 */
export function mostRecentScheduleTime(sched: Schedule, w: ScheduleWindow, now: Date): MissedSchedules {
  let earliest = new Date(w.lastScheduleTime ?? w.creationTimestamp ?? now.toISOString());
  if (w.startingDeadlineSeconds != null) {
    const deadline = new Date(now.getTime() - w.startingDeadlineSeconds * 1000);
    if (deadline > earliest) earliest = deadline;
  }
  let missed = 0;
  let mostRecent: Date | undefined;
  for (let t = sched.next(earliest); t <= now; t = sched.next(t)) {
    mostRecent = t;
    missed++;
    // Past the cap only the most recent matters: jump near `now` by walking from a later start.
    if (missed > TOO_MANY_MISSED + 1) {
      const probe = new Date(now.getTime() - 1);
      let last = mostRecent;
      // Find the last schedule ≤ now by stepping back in growing windows.
      for (let back = 60_000; ; back *= 2) {
        const from = new Date(Math.max(mostRecent.getTime(), probe.getTime() - back));
        let found: Date | undefined;
        for (let u = sched.next(from); u <= now; u = sched.next(u)) found = u;
        if (found || from.getTime() === mostRecent.getTime()) { last = found ?? last; break; }
      }
      return { mostRecent: last, missed };
    }
  }
  return { mostRecent, missed };
}

/** getTimeHashInMinutes: the scheduled time as minutes since the epoch, the Job name suffix. */
export function scheduledTimeHash(t: Date): number {
  return Math.floor(t.getTime() / 60_000);
}

/** The Job name for a CronJob's scheduled time: `<cronjob>-<minutes since epoch>`. */
export function jobNameFor(cronJobName: string, t: Date): string {
  return `${cronJobName}-${scheduledTimeHash(t)}`;
}

/** The scheduled time a Job name encodes, if it is `<cronjob>-<minutes>`. */
export function scheduledTimeFromJobName(cronJobName: string, jobName: string): Date | undefined {
  const prefix = `${cronJobName}-`;
  if (!jobName.startsWith(prefix)) return undefined;
  const rest = jobName.slice(prefix.length);
  if (!/^\d+$/.test(rest)) return undefined;
  return new Date(Number(rest) * 60_000);
}
