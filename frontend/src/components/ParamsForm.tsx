'use client';

import { type ReactNode, useId } from 'react';
import type { FieldErrors, FieldSpec, FormValues } from '@/lib/schemaForm';

interface Props {
  fields: FieldSpec[];
  values: FormValues;
  errors: FieldErrors;
  onChange: (name: string, value: string | boolean) => void;
  onBlur?: (name: string) => void;
  disabled?: boolean;
}

function hint(field: FieldSpec): string {
  const parts: string[] = [];
  const lo = field.minimum ?? field.exclusiveMinimum;
  const hi = field.maximum ?? field.exclusiveMaximum;
  if (lo !== undefined || hi !== undefined) {
    const left = lo === undefined ? '' : `${lo}${field.exclusiveMinimum !== undefined ? ' <' : ' ≤'} `;
    const right = hi === undefined ? '' : ` ${field.exclusiveMaximum !== undefined ? '<' : '≤'} ${hi}`;
    parts.push(`${left}value${right}`);
  }
  if (field.kind === 'array') parts.push('comma-separated');
  if (field.kind === 'date') parts.push('YYYY-MM-DD');
  if (field.nullable && field.kind !== 'enum') parts.push('optional');
  return parts.join(' · ');
}

/** The editable inputs of one scenario, generated from its JSON Schema. */
export function ParamsForm({ fields, values, errors, onChange, onBlur, disabled }: Props) {
  const baseId = useId();
  if (fields.length === 0) return <p className="muted">This scenario takes no inputs.</p>;
  return (
    <div className="params-grid">
      {fields.map((field) => {
        const id = `${baseId}-${field.name}`;
        const error = errors[field.name];
        const help = [field.description, hint(field)].filter(Boolean).join(' — ');
        const describedBy =
          [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
        const common = {
          id,
          name: field.name,
          disabled,
          'aria-invalid': error ? true : undefined,
          'aria-describedby': describedBy,
          'data-field': field.name,
          onBlur: () => onBlur?.(field.name),
        };
        let control: ReactNode;
        if (field.kind === 'boolean') {
          control = (
            <input
              {...common}
              type="checkbox"
              checked={values[field.name] === true}
              onChange={(e) => onChange(field.name, e.target.checked)}
            />
          );
        } else if (field.kind === 'enum') {
          control = (
            <select
              {...common}
              value={String(values[field.name] ?? '')}
              onChange={(e) => onChange(field.name, e.target.value)}
            >
              {field.nullable && <option value="">(none)</option>}
              {field.options?.map((option) => (
                <option key={String(option)} value={String(option)}>
                  {field.optionLabels?.[String(option)] ?? String(option)}
                </option>
              ))}
            </select>
          );
        } else {
          const numeric = field.kind === 'integer' || field.kind === 'number';
          control = (
            <input
              {...common}
              type="text"
              inputMode={field.kind === 'integer' ? 'numeric' : numeric ? 'decimal' : undefined}
              placeholder={field.kind === 'date' ? 'latest' : field.nullable ? '(any)' : undefined}
              autoComplete="off"
              spellCheck={false}
              value={String(values[field.name] ?? '')}
              onChange={(e) => onChange(field.name, e.target.value)}
            />
          );
        }
        return (
          <div key={field.name} className={`field field-${field.kind}${error ? ' field-invalid' : ''}`}>
            <label htmlFor={id}>{field.label}</label>
            {control}
            {help && (
              <small id={`${id}-help`} className="field-help">
                {help}
              </small>
            )}
            {error && (
              <small id={`${id}-error`} className="field-error" role="alert" data-testid="field-error">
                {error}
              </small>
            )}
          </div>
        );
      })}
    </div>
  );
}
