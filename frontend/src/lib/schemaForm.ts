/**
 * Turns a scenario's `inputs` JSON Schema (pydantic v2 output) into form fields, and form text
 * back into params, with client-side validation that mirrors the server's bounds.
 *
 * Form state is text (what the user typed) so a half-typed number is never lost; parsing happens
 * on submit and on blur.
 */
import type { JsonSchema, JsonValue, Params, UniverseSummary } from './types';

export type FieldKind = 'enum' | 'integer' | 'number' | 'boolean' | 'string' | 'date' | 'array';
export type ItemKind = 'string' | 'integer' | 'number';

export interface FieldSpec {
  name: string;
  label: string;
  description: string;
  kind: FieldKind;
  itemKind?: ItemKind;
  nullable: boolean;
  required: boolean;
  options?: JsonValue[];
  /** what a select shows for an option (default: the option itself) */
  optionLabels?: Record<string, string>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  default?: JsonValue;
}

export type FormValues = Record<string, string | boolean>;
export type FieldErrors = Record<string, string>;

function resolveRef(node: JsonSchema, root: JsonSchema): JsonSchema {
  let current = node;
  for (let depth = 0; current.$ref && depth < 10; depth += 1) {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(current.$ref);
    const target = match
      ? (root as Record<string, Record<string, JsonSchema> | undefined>)[match[1]]?.[match[2]]
      : undefined;
    if (!target) break;
    const { $ref: _ref, ...rest } = current;
    current = { ...target, ...rest };
  }
  if (current.allOf && current.allOf.length === 1) {
    const { allOf, ...rest } = current;
    current = { ...resolveRef(allOf[0], root), ...rest };
  }
  return current;
}

function titleCase(name: string): string {
  return name.replace(/_/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase());
}

// pydantic titles are "Adx Period"; finance readers expect "ADX period".
const ACRONYMS = new Set([
  'adx',
  'ma',
  'sma',
  'ema',
  'rsi',
  'macd',
  'atr',
  'di',
  'ic',
  'etf',
  'etfs',
  'id',
  'pe',
  'eps',
  'gics',
  'vix',
  'bb',
]);

export function prettyLabel(title: string): string {
  return title
    .split(' ')
    .map((word, i) => {
      const lower = word.toLowerCase();
      if (ACRONYMS.has(lower)) return lower === 'etfs' ? 'ETFs' : lower.toUpperCase();
      return i === 0 ? word : lower;
    })
    .join(' ');
}

function typeOf(node: JsonSchema): string | undefined {
  if (Array.isArray(node.type)) return node.type.find((t) => t !== 'null');
  return node.type;
}

/** The fields of an object schema, in declaration order. */
export function describeFields(schema: JsonSchema | null | undefined): FieldSpec[] {
  if (!schema?.properties) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, raw]) => describeField(name, raw, schema, required.has(name)));
}

function describeField(name: string, raw: JsonSchema, root: JsonSchema, required: boolean): FieldSpec {
  const outer = resolveRef(raw, root);
  let nullable = Array.isArray(outer.type) && outer.type.includes('null');
  let node: JsonSchema = outer;
  let options: JsonValue[] | undefined;

  const variants = outer.anyOf ?? outer.oneOf;
  if (variants) {
    const resolved = variants.map((v) => resolveRef(v, root));
    const nonNull = resolved.filter((v) => v.type !== 'null');
    nullable = nullable || nonNull.length < resolved.length;
    if (nonNull.length > 0 && nonNull.every((v) => v.const !== undefined || v.enum)) {
      options = nonNull.flatMap((v) => (v.const !== undefined ? [v.const] : (v.enum ?? [])));
      node = { ...nonNull[0] };
    } else if (nonNull.length >= 1) {
      node = nonNull[0];
    }
  }
  if (!options && node.enum) options = node.enum;
  if (!options && node.const !== undefined) options = [node.const];

  const base: FieldSpec = {
    name,
    label: prettyLabel(outer.title ?? node.title ?? titleCase(name)),
    description: outer.description ?? node.description ?? '',
    kind: 'string',
    nullable,
    required,
    default: outer.default !== undefined ? outer.default : node.default,
  };
  if (options) return { ...base, kind: 'enum', options };

  const type = typeOf(node);
  const bounds = {
    minimum: node.minimum,
    maximum: node.maximum,
    exclusiveMinimum: node.exclusiveMinimum,
    exclusiveMaximum: node.exclusiveMaximum,
  };
  switch (type) {
    case 'integer':
      return { ...base, kind: 'integer', ...bounds };
    case 'number':
      return { ...base, kind: 'number', ...bounds };
    case 'boolean':
      return { ...base, kind: 'boolean' };
    case 'array': {
      const items = node.items ? resolveRef(node.items, root) : {};
      const itemType = typeOf(items);
      const itemKind: ItemKind = itemType === 'integer' || itemType === 'number' ? itemType : 'string';
      return {
        ...base,
        kind: 'array',
        itemKind,
        minItems: node.minItems,
        maxItems: node.maxItems,
        pattern: items.pattern,
        ...{
          minimum: items.minimum,
          maximum: items.maximum,
          exclusiveMinimum: items.exclusiveMinimum,
          exclusiveMaximum: items.exclusiveMaximum,
        },
      };
    }
    default:
      if (node.format === 'date') return { ...base, kind: 'date' };
      return {
        ...base,
        kind: 'string',
        minLength: node.minLength,
        maxLength: node.maxLength,
        pattern: node.pattern,
      };
  }
}

function toText(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => toText(v)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Initial form text: the suggestion's pre-filled params win over the schema defaults. */
export function initialValues(fields: FieldSpec[], params: Params = {}): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const value = field.name in params ? params[field.name] : field.default;
    values[field.name] = field.kind === 'boolean' ? value === true : toText(value);
  }
  return values;
}

function fmt(n: number): string {
  return String(n);
}

function checkNumber(field: FieldSpec, value: number, what = 'Value'): string | null {
  if (field.minimum !== undefined && value < field.minimum) return `${what} must be ≥ ${fmt(field.minimum)}`;
  if (field.maximum !== undefined && value > field.maximum) return `${what} must be ≤ ${fmt(field.maximum)}`;
  if (field.exclusiveMinimum !== undefined && value <= field.exclusiveMinimum)
    return `${what} must be > ${fmt(field.exclusiveMinimum)}`;
  if (field.exclusiveMaximum !== undefined && value >= field.exclusiveMaximum)
    return `${what} must be < ${fmt(field.exclusiveMaximum)}`;
  return null;
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseScalar(kind: ItemKind, text: string): number | string | null {
  if (kind === 'integer') return INTEGER.test(text) ? Number.parseInt(text, 10) : null;
  if (kind === 'number') return NUMBER.test(text) ? Number(text) : null;
  return text;
}

export type ParseResult = { ok: true; value: JsonValue | undefined } | { ok: false; error: string };

/** Parse and validate one field's text. `undefined` means "leave it to the server's default". */
export function parseField(field: FieldSpec, raw: string | boolean): ParseResult {
  if (field.kind === 'boolean') return { ok: true, value: raw === true };
  const text = String(raw).trim();
  if (text === '') {
    if (field.nullable) return { ok: true, value: null };
    if (field.required) return { ok: false, error: 'Required' };
    return { ok: true, value: undefined };
  }
  switch (field.kind) {
    case 'enum': {
      const match = field.options?.find((o) => String(o) === text);
      return match === undefined
        ? { ok: false, error: `Choose one of ${field.options?.join(', ')}` }
        : { ok: true, value: match };
    }
    case 'integer':
    case 'number': {
      const value = parseScalar(field.kind, text);
      if (value === null)
        return { ok: false, error: field.kind === 'integer' ? 'Enter a whole number' : 'Enter a number' };
      const bad = checkNumber(field, value as number);
      return bad ? { ok: false, error: bad } : { ok: true, value };
    }
    case 'date': {
      const m = DATE.exec(text);
      const d = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : null;
      if (!m || !d || d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3])
        return { ok: false, error: 'Enter a date as YYYY-MM-DD' };
      return { ok: true, value: text };
    }
    case 'array': {
      const parts = text.split(/[,\s]+/).filter(Boolean);
      const itemKind = field.itemKind ?? 'string';
      const values: JsonValue[] = [];
      for (const part of parts) {
        const value = parseScalar(itemKind, part);
        if (value === null)
          return { ok: false, error: `“${part}” is not a ${itemKind === 'integer' ? 'whole number' : 'number'}` };
        if (typeof value === 'number') {
          const bad = checkNumber(field, value, `Each value`);
          if (bad) return { ok: false, error: bad };
        } else if (field.pattern && !new RegExp(field.pattern).test(value)) {
          return { ok: false, error: `“${part}” is not valid` };
        }
        values.push(value);
      }
      if (field.minItems !== undefined && values.length < field.minItems)
        return { ok: false, error: `Give at least ${field.minItems} value${field.minItems === 1 ? '' : 's'}` };
      if (field.maxItems !== undefined && values.length > field.maxItems)
        return { ok: false, error: `Give at most ${field.maxItems} values` };
      return { ok: true, value: values };
    }
    default: {
      if (field.minLength !== undefined && text.length < field.minLength)
        return { ok: false, error: `At least ${field.minLength} characters` };
      if (field.maxLength !== undefined && text.length > field.maxLength)
        return { ok: false, error: `At most ${field.maxLength} characters` };
      if (field.pattern && !new RegExp(field.pattern).test(text)) return { ok: false, error: 'Invalid format' };
      return { ok: true, value: text };
    }
  }
}

/** Parse the whole form: params to send, or the errors to show next to each field. */
export function parseForm(fields: FieldSpec[], values: FormValues): { params: Params; errors: FieldErrors } {
  const params: Params = {};
  const errors: FieldErrors = {};
  for (const field of fields) {
    const result = parseField(field, values[field.name] ?? (field.kind === 'boolean' ? false : ''));
    if (!result.ok) errors[field.name] = result.error;
    else if (result.value !== undefined) params[field.name] = result.value;
  }
  return { params, errors };
}

/**
 * Which form field a server error names: `params.lookback_days` → `lookback_days`,
 * `params.tickers.0` → `tickers`. Null when it names no field of this form.
 */
export function fieldForServerError(field: string | null | undefined, fields: FieldSpec[]): string | null {
  if (!field) return null;
  const path = field.replace(/^(body\.)?params[.[]?/, '').replace(/\]/g, '');
  const head = path.split(/[.[]/)[0];
  return fields.some((f) => f.name === head) ? head : null;
}

/**
 * The `universe` input as a picker of the universes the lake knows (GET /analysis/universes),
 * each labelled with its member count; unchanged (free text) while that list is unknown.
 */
export function withUniverses(fields: FieldSpec[], universes: UniverseSummary[] | null): FieldSpec[] {
  if (!universes || universes.length === 0) return fields;
  return fields.map((field) =>
    field.name === 'universe' && field.kind === 'string'
      ? {
          ...field,
          kind: 'enum',
          options: universes.map((u) => u.name),
          optionLabels: Object.fromEntries(universes.map((u) => [u.name, `${u.name} (${u.members} members)`])),
        }
      : field,
  );
}
