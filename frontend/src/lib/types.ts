/** Wire types of the quantdesk HTTP and SSE contracts (see shared ARCHITECTURE.md). */

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

export interface Scenario {
  scenario_id: string;
  version: string;
  title: string;
  description: string;
  keywords: string[];
  deliverables: string[];
  methodology: string;
  datasets: string[];
  history_days: number;
  inputs: JsonSchema;
}

export interface MatchedTerm {
  term: string;
  field: string;
  contribution: number;
}

export interface Suggestion {
  rank: number;
  scenario_id: string;
  title: string;
  description: string;
  score: number;
  raw_score: number;
  matched_terms: MatchedTerm[];
  why: string;
  deliverables: string[];
  params: Params;
}

export interface EngineInfo {
  provider: string;
  model: string;
  version: string;
  prompt_hash: string;
  latency_ms: number;
  fallback: boolean;
  fallback_reason: string | null;
}

export interface Understood {
  tickers?: string[] | null;
  universe?: string | null;
  sector?: string | null;
  horizon_days?: number | null;
  risk?: string | null;
}

export interface SuggestResponse {
  prompt: string;
  suggestions: Suggestion[];
  understood: Understood;
  no_confident_match: boolean;
  engine: EngineInfo;
}

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export type RunStatus = 'queued' | 'running' | TerminalStatus;

export function isTerminal(status: string | null | undefined): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status ?? '');
}

export interface Progress {
  step: string;
  percent: number;
  message: string;
}

export interface RunError {
  type: string;
  message: string;
}

export interface RunAccepted {
  run_id: string;
  status: RunStatus;
  stream_url: string;
  status_url: string;
}

export interface TimelineEntry {
  seq: number;
  event: string;
  status: string;
  at: string;
  data?: Record<string, unknown> | null;
}

export interface Column {
  name: string;
  label: string;
  kind: 'text' | 'number' | 'percent' | 'integer' | 'date';
  description?: string;
}

export interface Series {
  name: string;
  kind: 'line' | 'bar';
  x: (string | number)[];
  y: Record<string, (number | null)[]>;
}

export interface Claim {
  text: string;
  row?: string | null;
  field?: string | null;
}

export interface DataQuality {
  assets_requested: number;
  assets_used: number;
  rows_in: number;
  rows_dropped: number;
  dropped: Record<string, string>;
  notes: string[];
}

export type Row = Record<string, JsonValue>;

export interface ScenarioResult {
  scenario_id: string;
  as_of: string;
  summary: string;
  columns: Column[];
  rows: Row[];
  series: Series[];
  narrative: Claim[];
  data_quality: DataQuality;
}

export interface Run {
  run_id: string;
  scenario_id: string;
  status: RunStatus;
  created_at: string;
  updated_at: string;
  manifest: Record<string, unknown> | null;
  progress: Progress | null;
  error: RunError | null;
  timeline: TimelineEntry[];
  result: ScenarioResult | null;
}

export interface RunSummary {
  run_id: string;
  scenario_id: string;
  status: RunStatus;
  created_at: string;
  updated_at: string;
  duration_ms: number | null;
}

export interface RunList {
  runs: RunSummary[];
  next_cursor: string | null;
}

/** `data:` of one SSE event. */
export interface StreamEvent {
  run_id: string;
  seq: number;
  status: string;
  at: string;
  progress?: Progress;
  error?: RunError;
  result_summary?: unknown;
  [key: string]: unknown;
}
