import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { SluiceError } from '../errors/index.js';
import {
  eventTypes,
  isEventType,
  isPipelineEventType,
  pipelineEventTypes,
  type EventType,
  type PipelineEvent,
  type PipelineEventType,
  type SluiceEvent,
} from './event-types.js';
import { CloudEventAttributes, DOT_SEGMENT_PATTERN } from './schemas.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export interface ValidationIssue {
  /** JSON pointer into the structured event, e.g. /data/tenant. */
  pointer: string;
  message: string;
}

// Schemas compile on first use, not at import: compiling them all costs seconds of CPU that
// a CLI command which never validates an event (keys, webhooks, status) would pay.
let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();
function compile<T = unknown>(key: string, schema: object): ValidateFunction<T> {
  let v = compiled.get(key);
  if (v === undefined) {
    if (ajv === undefined) {
      // strictRequired off: the oneOf branches name properties declared on the parent object.
      ajv = new Ajv2020({
        allErrors: true,
        strict: true,
        strictRequired: false,
        allowUnionTypes: true,
      });
      addFormats(ajv, ['uri', 'uri-reference', 'date-time']);
    }
    v = ajv.compile(schema);
    compiled.set(key, v);
  }
  return v as ValidateFunction<T>;
}
const dataSpecs: Record<EventType | PipelineEventType, { schema: object }> = {
  ...eventTypes,
  ...pipelineEventTypes,
};

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function toIssues(errors: ErrorObject[] | null | undefined, prefix: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  // A value of the wrong type makes every other rule on it noise: report only the type.
  const wrongType = new Set(
    (errors ?? []).filter((e) => e.keyword === 'type').map((e) => e.instancePath),
  );
  for (const e of errors ?? []) {
    if (e.keyword !== 'type' && wrongType.has(e.instancePath)) continue;
    let pointer = prefix + e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      const p = (e.params as { missingProperty: string }).missingProperty;
      // The "exactly one of text or textRef" rule reports through oneOf below.
      if (e.schemaPath.includes('/oneOf/')) continue;
      pointer += `/${escapePointer(p)}`;
      message = 'is required';
    } else if (
      e.keyword === 'pattern' &&
      (e.params as { pattern: string }).pattern === DOT_SEGMENT_PATTERN
    ) {
      message = "must not be '.' or '..': a URL path cannot carry them";
    } else if (e.keyword === 'additionalProperties') {
      pointer += `/${escapePointer((e.params as { additionalProperty: string }).additionalProperty)}`;
      message = 'is not allowed here';
    } else if (e.keyword === 'oneOf' && e.schemaPath === '#/oneOf') {
      pointer += '/text';
      message = 'exactly one of text or textRef is required';
    }
    if (!issues.some((i) => i.pointer === pointer && i.message === message))
      issues.push({ pointer, message });
  }
  return issues.slice(0, 20);
}

function invalid(issues: ValidationIssue[]): SluiceError {
  const first = issues[0] ?? { pointer: '', message: 'is invalid' };
  return new SluiceError('EVENT_INVALID', `${first.pointer || 'event'} ${first.message}`, {
    details: { pointer: first.pointer, issues },
  });
}

// An unpaired UTF-16 surrogate: JSON can carry it, UTF-8 (and so PostgreSQL) cannot.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_CHAR = new RegExp(`\u0000|${LONE_SURROGATE.source}`, 'g');

/**
 * The first string (value or key) that PostgreSQL or UTF-8 cannot store: a NUL, or a
 * lone surrogate. Such an event would be accepted and then fail in every store after it.
 */
export function unstorable(value: unknown, pointer = ''): ValidationIssue | undefined {
  if (typeof value === 'string') {
    if (value.includes('\u0000'))
      return { pointer, message: 'must not contain NUL (U+0000): text stores cannot hold it' };
    if (LONE_SURROGATE.test(value))
      return { pointer, message: 'must be valid Unicode (it has an unpaired surrogate)' };
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const issue = unstorable(value[i], `${pointer}/${i}`);
      if (issue) return issue;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      // The pointer itself must be storable: it travels into dead letters and read models.
      const at = `${pointer}/${escapePointer(k).replace(UNSTORABLE_CHAR, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;
      const issue = unstorable(k, at) ?? unstorable(v, at);
      if (issue) return issue;
    }
  }
  return undefined;
}

/** Years a timestamp column holds (PostgreSQL has no year 0; we keep to four digits). */
function checkTime(event: Record<string, unknown>): void {
  const time = event.time;
  if (typeof time !== 'string') return;
  const year = Number(time.slice(0, 4));
  if (!(year >= 1) || Number.isNaN(Date.parse(time)))
    throw invalid([{ pointer: '/time', message: 'must be a date-time from year 0001 to 9999' }]);
}

function checkEnvelope(
  event: unknown,
): asserts event is Record<string, unknown> & { type: string } {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw invalid([{ pointer: '', message: 'must be a JSON object (a CloudEvent)' }]);
  }
  const attributes = compile<Record<string, unknown>>('attributes', CloudEventAttributes);
  if (!attributes(event)) throw invalid(toIssues(attributes.errors, ''));
  checkTime(event);
  const issue = unstorable(event);
  if (issue) throw invalid([issue]);
}

function unknownType(type: string, known: string[]): SluiceError {
  return new SluiceError(
    'EVENT_TYPE_UNKNOWN',
    `unknown event type '${type}'; known: ${known.join(', ')}`,
    {
      details: {
        pointer: '/type',
        issues: [{ pointer: '/type', message: 'is not a known event type' }],
      },
    },
  );
}

function checkData(event: Record<string, unknown>, type: EventType | PipelineEventType): void {
  if (!('data' in event)) throw invalid([{ pointer: '/data', message: 'is required' }]);
  const check = compile(type, dataSpecs[type].schema);
  if (!check(event.data)) throw invalid(toIssues(check.errors, '/data'));
}

/**
 * Checks a structured CloudEvent (attributes and data) against its contract and returns
 * it typed. Throws EVENT_INVALID with a JSON pointer to the first bad field, or
 * EVENT_TYPE_UNKNOWN. Both are permanent: the same input never becomes valid.
 * Only the public (ingest) types are accepted here.
 */
export function validateEvent(event: unknown): SluiceEvent {
  checkEnvelope(event);
  if (!isEventType(event.type)) throw unknownType(event.type, Object.keys(eventTypes));
  checkData(event, event.type);
  return event as unknown as SluiceEvent;
}

/** validateEvent for the events Sluice's roles exchange; `type` is the one expected. */
export function validatePipelineEvent<T extends PipelineEventType>(
  event: unknown,
  type: T,
): PipelineEvent<T> {
  checkEnvelope(event);
  if (!isPipelineEventType(event.type) || event.type !== type)
    throw unknownType(event.type, [type]);
  checkData(event, event.type);
  return event as unknown as PipelineEvent<T>;
}
