/**
 * Types of the quantdesk HTTP and SSE contracts. The wire shapes are generated from the API's
 * OpenAPI document (docs/openapi.json, itself generated from the pydantic models) into
 * wire.gen.ts by `make contract`; this module names them for the UI and narrows the few
 * free-form parts (params, input schemas, table rows). Contract: docs/contract.md.
 */
import type { components } from './wire.gen';

type Wire = components['schemas'];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Params = Record<string, JsonValue | undefined>;

/** A JSON Schema node as pydantic v2 emits it (only the parts the form generator reads). */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: JsonValue;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  enum?: JsonValue[];
  const?: JsonValue;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

export type Scenario = Omit<Wire['ScenarioSpec'], 'inputs'> & { inputs: JsonSchema };
export type Catalogue = { scenarios: Scenario[] };

export type MatchedTerm = Wire['MatchedTerm'];
export type Suggestion = Omit<Wire['Suggestion'], 'params'> & { params: Params };
export type EngineInfo = Wire['Engine'];
export type Understood = Wire['Understood'];
export type SuggestResponse = Omit<Wire['SuggestResponse'], 'suggestions'> & { suggestions: Suggestion[] };

export type UniverseList = Wire['UniverseList'];
export type UniverseSummary = Wire['UniverseSummary'];

export type RunStatus = Wire['RunAccepted']['status'];
export const TERMINAL_STATUSES = [
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
] as const satisfies readonly RunStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTerminal(status: string | null | undefined): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status ?? '');
}

export type Progress = Wire['Progress'];
export type RunError = Wire['RunError'];
export type ErrorBody = Wire['ErrorBody'];
export type RunRequest = Omit<Wire['RunRequest'], 'params'> & { params: Params };
export type RunAccepted = Wire['RunAccepted'];
export type CancelResult = Wire['CancelResult'];
/** A short-lived link to a run's report or export (GET /analysis/runs/{id}/report|export). */
export type ArtifactLink = Wire['ArtifactLink'];
export type ExportFormat = Exclude<ArtifactLink['kind'], 'report'>;
/** `data:` of one SSE event, and one entry of a run's timeline. */
export type StreamEvent = Wire['RunEvent'];

/** The UI's timeline entry (not on the wire): an event keyed by seq, with its payload. */
export interface TimelineEntry {
  seq: number;
  event: string;
  status: string;
  at: string;
  data?: Record<string, unknown> | null;
}

export type Column = Wire['Column'];
export type Series = Omit<Wire['Series'], 'x'> & { x: (string | number)[] };
export type Claim = Wire['Claim'];
export type DataQuality = Wire['DataQuality'];
export type Row = Record<string, JsonValue>;
export type ScenarioResult = Omit<Wire['ScenarioResult'], 'rows' | 'series'> & { rows: Row[]; series: Series[] };

export type Run = Omit<Wire['RunView'], 'result'> & { result: ScenarioResult | null };
export type RunSummary = Wire['RunSummary'];
export type RunList = Wire['RunSummaryPage'];

export type AnalyticsReport = Wire['AnalyticsReport'];
export type Alert = Wire['Alert'];
export type AlertPage = Wire['AlertPage'];
export type WatchRequest = Omit<Wire['WatchRequest'], 'params'> & { params?: Params | null };
export type WatchCreated = Wire['WatchCreated'];
