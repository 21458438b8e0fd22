import { describe, expect, it } from 'vitest';
import {
  describeFields,
  fieldForServerError,
  initialValues,
  parseField,
  parseForm,
  withUniverses,
} from '@/lib/schemaForm';
import type { JsonSchema } from '@/lib/types';
import schema from './fixtures/inputs-schema.json';

const fields = describeFields(schema as JsonSchema);
const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

describe('describeFields', () => {
  it('reads pydantic v2 schema constructs', () => {
    // Given the JSON Schema pydantic emits for a ScenarioParams subclass
    // Then every property becomes a field of the right kind, in order
    expect(fields.map((f) => f.name)).toEqual([
      'universe',
      'tickers',
      'sector',
      'as_of',
      'lookback_days',
      'top_n',
      'threshold',
      'risk',
      'method',
      'horizons',
      'include_etfs',
    ]);
    expect(byName.universe).toMatchObject({ kind: 'string', pattern: '^[a-z][a-z0-9_]{0,39}$' });
    expect(byName.tickers).toMatchObject({
      kind: 'array',
      itemKind: 'string',
      nullable: true,
      minItems: 1,
      maxItems: 500,
    });
    expect(byName.as_of).toMatchObject({ kind: 'date', nullable: true });
    expect(byName.lookback_days).toMatchObject({
      kind: 'integer',
      minimum: 20,
      maximum: 756,
      default: 126,
      label: 'Lookback days',
    });
    expect(byName.top_n).toMatchObject({ exclusiveMinimum: 0, exclusiveMaximum: 101 });
    expect(byName.risk).toMatchObject({ kind: 'enum', options: ['low', 'high'], default: 'low' }); // $ref into $defs
    expect(byName.method).toMatchObject({ kind: 'enum', options: ['a', 'b'] }); // anyOf of consts
    expect(byName.horizons).toMatchObject({ kind: 'array', itemKind: 'integer', minItems: 1 });
    expect(byName.include_etfs).toMatchObject({ kind: 'boolean', label: 'Include ETFs' });
    expect(byName.as_of.label).toBe('As of');
  });
});

describe('parseField', () => {
  it('mirrors the server bounds', () => {
    expect(parseField(byName.lookback_days, '19')).toEqual({ ok: false, error: 'Value must be ≥ 20' });
    expect(parseField(byName.lookback_days, '757')).toEqual({ ok: false, error: 'Value must be ≤ 756' });
    expect(parseField(byName.lookback_days, '12.5')).toEqual({ ok: false, error: 'Enter a whole number' });
    expect(parseField(byName.lookback_days, '60')).toEqual({ ok: true, value: 60 });
    expect(parseField(byName.top_n, '0').ok).toBe(false);
    expect(parseField(byName.top_n, '101').ok).toBe(false);
    expect(parseField(byName.threshold, '0.25')).toEqual({ ok: true, value: 0.25 });
    expect(parseField(byName.as_of, '2024-02-30').ok).toBe(false);
    expect(parseField(byName.as_of, '1990-01-01')).toEqual({ ok: true, value: '1990-01-01' });
    expect(parseField(byName.as_of, '')).toEqual({ ok: true, value: null });
    expect(parseField(byName.horizons, '1, 5 21')).toEqual({ ok: true, value: [1, 5, 21] });
    expect(parseField(byName.horizons, '').ok).toBe(true); // not required: the server default applies
    expect(parseField(byName.universe, 'No Where!').ok).toBe(false); // not a universe name
    expect(parseField(byName.universe, 'my_batch')).toEqual({ ok: true, value: 'my_batch' });
  });
});

describe('parseForm', () => {
  it('prefills from params and round-trips them', () => {
    const values = initialValues(fields, { tickers: ['AAPL', 'MSFT'], lookback_days: 60 });
    expect(values.tickers).toBe('AAPL, MSFT');
    expect(values.lookback_days).toBe('60');
    expect(values.top_n).toBe('10');
    const { params, errors } = parseForm(fields, values);
    expect(errors).toEqual({});
    expect(params).toMatchObject({
      tickers: ['AAPL', 'MSFT'],
      lookback_days: 60,
      universe: 'us_large_cap',
      as_of: null,
      include_etfs: false,
    });
  });

  it('maps server error fields to form fields', () => {
    expect(fieldForServerError('params.lookback_days', fields)).toBe('lookback_days');
    expect(fieldForServerError('params.tickers.0', fields)).toBe('tickers');
    expect(fieldForServerError('scenario_id', fields)).toBeNull();
    expect(fieldForServerError(null, fields)).toBeNull();
  });
});

describe('withUniverses', () => {
  const universes = [
    { name: 'my_batch', members: 12, symbols: 12, first_date: '2024-01-02' },
    { name: 'us_large_cap', members: 50, symbols: 52, first_date: '2020-01-01' },
  ];

  it('turns the universe input into a picker of the lake universes, labelled with member counts', () => {
    const picked = Object.fromEntries(withUniverses(fields, universes).map((f) => [f.name, f]));
    expect(picked.universe).toMatchObject({ kind: 'enum', options: ['my_batch', 'us_large_cap'] });
    expect(picked.universe.optionLabels).toEqual({
      my_batch: 'my_batch (12 members)',
      us_large_cap: 'us_large_cap (50 members)',
    });
    expect(parseField(picked.universe, 'my_batch')).toEqual({ ok: true, value: 'my_batch' });
    expect(parseField(picked.universe, 'us_mid_cap').ok).toBe(false);
    expect(picked.lookback_days).toEqual(byName.lookback_days);
  });

  it('leaves a free-text universe while the list is unknown or empty', () => {
    expect(withUniverses(fields, null)).toBe(fields);
    expect(withUniverses(fields, [])).toBe(fields);
  });
});
