/**
 * `kubectl get events` columns (printers.go printEvent) for core/v1 and events.k8s.io/v1 Events,
 * and their field selectors (pkg/registry/core/event/strategy.go; events.k8s.io spells
 * `involvedObject.*` as `regarding.*` and `reportingComponent` as `reportingController`).
 * Unlike other tables, NAME comes last and only with `-o wide`, as in Kubernetes.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { FieldGetter, TableConvertor } from '../types.ts';
import { translateTimestampSince } from './age.ts';
import { col, str } from './format.ts';

/** The fields the printer reads, in core/v1 terms. */
interface EventView {
  name: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { count?: number; lastObservedTime?: string };
  count?: number;
  involvedObject: Record<string, any>;
  type: string;
  reason: string;
  message: string;
  source: { component?: string; host?: string };
  reportingController: string;
  reportingInstance: string;
}

function coreView(ev: KubeObject): EventView {
  return {
    name: ev.metadata.name ?? '',
    firstTimestamp: ev.firstTimestamp,
    lastTimestamp: ev.lastTimestamp,
    eventTime: ev.eventTime,
    series: ev.series,
    count: ev.count,
    involvedObject: ev.involvedObject ?? {},
    type: str(ev.type),
    reason: str(ev.reason),
    message: str(ev.message),
    source: ev.source ?? {},
    reportingController: str(ev.reportingComponent),
    reportingInstance: str(ev.reportingInstance),
  };
}

function eventsV1View(ev: KubeObject): EventView {
  return {
    name: ev.metadata.name ?? '',
    firstTimestamp: ev.deprecatedFirstTimestamp,
    lastTimestamp: ev.deprecatedLastTimestamp,
    eventTime: ev.eventTime,
    series: ev.series,
    count: ev.deprecatedCount,
    involvedObject: ev.regarding ?? {},
    type: str(ev.type),
    reason: str(ev.reason),
    message: str(ev.note),
    source: ev.deprecatedSource ?? {},
    reportingController: str(ev.reportingController),
    reportingInstance: str(ev.reportingInstance),
  };
}

const COLUMNS = [
  col('Last Seen', 'string', false, 'The time at which the most recent occurrence of this event was recorded.'),
  col('Type', 'string', false, 'Type of this event (Normal, Warning), new types could be added in the future'),
  col('Reason', 'string', false, 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
  col('Object', 'string', false, 'The object that this event is about.'),
  col('Subobject', 'string', true, 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.'),
  col('Source', 'string', true, 'The component reporting this event.'),
  col('Message', 'string', false, 'A human-readable description of the status of this operation.'),
  col('First Seen', 'string', true, 'The time at which the event was first recorded.'),
  col('Count', 'string', true, 'The number of times this event has occurred.'),
  { name: 'Name', type: 'string' as const, format: 'name', priority: 1, description: 'Name must be unique within a namespace.' },
];

function eventCells(ev: EventView, now: Date): unknown[] {
  const first = ev.firstTimestamp
    ? translateTimestampSince(ev.firstTimestamp, now)
    : translateTimestampSince(ev.eventTime, now);
  let last = ev.lastTimestamp ? translateTimestampSince(ev.lastTimestamp, now) : first;
  let count = typeof ev.count === 'number' ? ev.count : 0;
  if (ev.series) {
    last = translateTimestampSince(ev.series.lastObservedTime, now);
    count = typeof ev.series.count === 'number' ? ev.series.count : 0;
  } else if (count === 0) {
    count = 1; // singleton events have no count in the new API
  }
  const io = ev.involvedObject;
  const kind = str(io.kind).toLowerCase();
  const target = io.name ? `${kind}/${io.name}` : kind;
  const component = ev.source.component || ev.reportingController;
  const instance = ev.source.host || ev.reportingInstance;
  const source = instance ? `${component}, ${instance}` : component;
  return [last, ev.type, ev.reason, target, str(io.fieldPath), source, ev.message.trim(), first, count, ev.name];
}

export const eventTable: TableConvertor = {
  columns: COLUMNS,
  cells: (ev, now) => eventCells(coreView(ev), now),
};

export const eventsV1Table: TableConvertor = {
  columns: COLUMNS,
  cells: (ev, now) => eventCells(eventsV1View(ev), now),
};

const REF_FIELDS = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];

/** core/v1 Event fields selectable beyond metadata (EventToSelectableFields). */
export const eventFieldSelectors: Record<string, FieldGetter> = {
  ...Object.fromEntries(REF_FIELDS.map((f) => [`involvedObject.${f}`, (e: KubeObject) => e.involvedObject?.[f]])),
  reason: (e) => e.reason,
  reportingComponent: (e) => e.reportingComponent,
  source: (e) => e.source?.component || e.reportingComponent,
  type: (e) => e.type,
};

/** events.k8s.io/v1 Event fields selectable beyond metadata, in that API's spelling. */
export const eventsV1FieldSelectors: Record<string, FieldGetter> = {
  ...Object.fromEntries(REF_FIELDS.map((f) => [`regarding.${f}`, (e: KubeObject) => e.regarding?.[f]])),
  reason: (e) => e.reason,
  reportingController: (e) => e.reportingController,
  source: (e) => e.deprecatedSource?.component || e.reportingController,
  type: (e) => e.type,
};
