'use client';

import { useMemo, useState } from 'react';
import type { ApiError } from '@/lib/api';
import {
  describeFields,
  type FieldErrors,
  fieldForServerError,
  initialValues,
  parseField,
  parseForm,
  withUniverses,
} from '@/lib/schemaForm';
import type { EngineInfo, RunAccepted, RunRequest, Scenario, Suggestion, UniverseSummary } from '@/lib/types';
import { ParamsForm } from './ParamsForm';
import { ScoreBar } from './ScoreBar';

interface Props {
  suggestion: Suggestion;
  scenario: Scenario | null;
  prompt: string;
  engine: EngineInfo;
  /** the lake's universes (GET /analysis/universes): the universe input picks from them */
  universes?: UniverseSummary[] | null;
  /** the suggest this card came from (prompt analytics learn which card was run) */
  suggestId?: string | null;
  onRun: (request: RunRequest) => Promise<RunAccepted>;
  onStarted: (accepted: RunAccepted) => void;
}

function newKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random()}`;
}

/** One ranked suggestion: why it matched, what it delivers, its inputs, and the run button. */
export function ScenarioCard({
  suggestion,
  scenario,
  prompt,
  engine,
  universes = null,
  suggestId,
  onRun,
  onStarted,
}: Props) {
  const fields = useMemo(() => withUniverses(describeFields(scenario?.inputs), universes), [scenario, universes]);
  const [values, setValues] = useState(() => initialValues(fields, suggestion.params));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState(suggestion.rank === 1);
  const [seededFor, setSeededFor] = useState(fields);
  const headingId = `card-${suggestion.rank}-title`;

  // The catalogue may arrive after the card: seed the form once the schema is known.
  if (seededFor !== fields) {
    setSeededFor(fields);
    setValues(initialValues(fields, suggestion.params));
  }

  function change(name: string, value: string | boolean) {
    setValues((prev) => ({ ...prev, [name]: value }));
    if (errors[name]) setErrors(({ [name]: _gone, ...rest }) => rest);
  }

  function blur(name: string) {
    const field = fields.find((f) => f.name === name);
    if (!field) return;
    const result = parseField(field, values[name] ?? '');
    setErrors((prev) => {
      const { [name]: _old, ...rest } = prev;
      return result.ok ? rest : { ...rest, [name]: result.error };
    });
  }

  function focusField(card: HTMLElement | null, name: string) {
    setOpen(true);
    requestAnimationFrame(() => card?.querySelector<HTMLElement>(`[data-field="${name}"]`)?.focus());
  }

  async function run(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const card = event.currentTarget.closest('article');
    setFormError(null);
    const { params, errors: found } = scenario ? parseForm(fields, values) : { params: suggestion.params, errors: {} };
    setErrors(found);
    const first = Object.keys(found)[0];
    if (first) {
      focusField(card, first);
      return;
    }
    setBusy(true);
    try {
      const accepted = await onRun({
        scenario_id: suggestion.scenario_id,
        params,
        idempotency_key: newKey(),
        provenance: { prompt, rank: suggestion.rank, engine, ...(suggestId ? { suggest_id: suggestId } : {}) },
      });
      onStarted(accepted);
    } catch (exc) {
      const err = exc as ApiError;
      const target = fieldForServerError(err.field, fields);
      if (target) {
        setErrors((prev) => ({ ...prev, [target]: err.message }));
        focusField(card, target);
      } else {
        setFormError(err.message || 'The run could not be started');
      }
      setBusy(false);
    }
  }

  const nErrors = Object.keys(errors).length;
  return (
    <article
      className="card scenario-card"
      data-testid="scenario-card"
      data-scenario-id={suggestion.scenario_id}
      aria-labelledby={headingId}
    >
      <header className="card-head">
        <span className="rank">
          <span className="sr-only">Rank </span>#{suggestion.rank}
        </span>
        <h3 id={headingId}>{suggestion.title}</h3>
        <ScoreBar score={suggestion.score} raw={suggestion.raw_score} />
      </header>
      <p className="card-desc">{suggestion.description}</p>
      {suggestion.why && (
        <p className="why">
          <strong>Why: </strong>
          {suggestion.why}
        </p>
      )}
      {suggestion.matched_terms.length > 0 && (
        <ul className="chips" aria-label="Matched terms">
          {suggestion.matched_terms.map((term) => (
            <li
              key={`${term.term}-${term.field}`}
              className="chip"
              title={`matched in ${term.field}, contributes ${term.contribution.toFixed(3)}`}
            >
              {term.term}
              <span className="chip-sub">{term.field}</span>
            </li>
          ))}
        </ul>
      )}
      {suggestion.deliverables.length > 0 && (
        <div className="deliverables">
          <h4>Deliverables</h4>
          <ul>
            {suggestion.deliverables.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        </div>
      )}
      <form onSubmit={run} noValidate aria-label={`Inputs for ${suggestion.title}`}>
        <details className="inputs" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
          <summary>Inputs{nErrors > 0 && <span className="badge badge-failed">{nErrors} to fix</span>}</summary>
          {scenario ? (
            <ParamsForm
              fields={fields}
              values={values}
              errors={errors}
              onChange={change}
              onBlur={blur}
              disabled={busy}
            />
          ) : (
            <p className="muted">Loading the scenario’s inputs…</p>
          )}
        </details>
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        <div className="card-actions">
          <button type="submit" className="btn btn-primary" data-testid="run-button" disabled={busy} aria-busy={busy}>
            {busy ? 'Starting…' : 'Run analysis'}
          </button>
        </div>
      </form>
    </article>
  );
}
