'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { ApiError, api } from '@/lib/api';
import { loadRecent, saveRecent } from '@/lib/recentPrompts';
import type { RunAccepted, RunRequest, Scenario, SuggestResponse, UniverseSummary } from '@/lib/types';
import { rememberStream } from '@/lib/useRunWatcher';
import { ScenarioCard } from './ScenarioCard';

const EXAMPLES = [
  'Which large caps have the strongest trends right now?',
  'Rank tech stocks by 12-1 momentum over the last year',
  'Is AAPL, MSFT or NVDA trending harder?',
  'Find oversold names with improving earnings revisions',
];

interface Props {
  /** Where to go once a run is accepted (injectable for tests). */
  navigate?: (href: string) => void;
  runScenario?: (request: RunRequest) => Promise<RunAccepted>;
}

export function PromptPage({ navigate, runScenario = api.run }: Props) {
  const router = useRouter();
  const go = navigate ?? ((href: string) => router.push(href));
  const [prompt, setPrompt] = useState('');
  const [recent, setRecent] = useState<string[]>([]);
  const [response, setResponse] = useState<SuggestResponse | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [catalogue, setCatalogue] = useState<Record<string, Scenario>>({});
  const [catalogueError, setCatalogueError] = useState<string | null>(null);
  const [universes, setUniverses] = useState<UniverseSummary[] | null>(null);
  const resultsRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    setRecent(loadRecent());
    api
      .scenarios()
      .then((list) => setCatalogue(Object.fromEntries(list.map((s) => [s.scenario_id, s]))))
      .catch((exc: Error) => setCatalogueError(exc.message));
    // the universe picker; without the list the universe stays a free-text input
    api.universes().then(
      (list) => setUniverses(list.universes ?? null),
      () => undefined,
    );
  }, []);

  // A suggested scenario missing from the catalogue (e.g. added since it loaded): fetch it alone.
  useEffect(() => {
    for (const s of response?.suggestions ?? []) {
      if (!catalogue[s.scenario_id] && Object.keys(catalogue).length > 0) {
        api.scenario(s.scenario_id).then(
          (one) => setCatalogue((prev) => ({ ...prev, [one.scenario_id]: one })),
          () => undefined,
        );
      }
    }
  }, [response, catalogue]);

  async function suggest(text: string) {
    const trimmed = text.trim();
    if (!trimmed) {
      setError('Type a question first');
      return;
    }
    setLoading(true);
    setError(null);
    try {
      const res = await api.suggest(trimmed);
      setResponse(res);
      setRecent(saveRecent(trimmed));
      requestAnimationFrame(() => resultsRef.current?.focus());
    } catch (exc) {
      setError(exc instanceof ApiError ? exc.message : 'Something went wrong');
    } finally {
      setLoading(false);
    }
  }

  function started(accepted: RunAccepted) {
    rememberStream(accepted.run_id, accepted.stream_url);
    go(`/run/?id=${encodeURIComponent(accepted.run_id)}`);
  }

  return (
    <div className="page prompt-page">
      <section className="prompt-panel" aria-labelledby="prompt-title">
        <h1 id="prompt-title">What do you want to find out?</h1>
        <form
          className="prompt-form"
          onSubmit={(e) => {
            e.preventDefault();
            void suggest(prompt);
          }}
        >
          <label htmlFor="prompt" className="sr-only">
            Research question
          </label>
          <textarea
            id="prompt"
            data-testid="prompt-input"
            rows={3}
            value={prompt}
            placeholder="e.g. Which large caps have the strongest trends right now?"
            aria-describedby={error ? 'prompt-error prompt-hint' : 'prompt-hint'}
            aria-invalid={error ? true : undefined}
            onChange={(e) => setPrompt(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) {
                e.preventDefault();
                void suggest(prompt);
              }
            }}
          />
          <div className="prompt-actions">
            <small id="prompt-hint" className="muted">
              Plain English; name tickers, sectors or horizons if you have them. Ctrl+Enter submits.
            </small>
            <button
              type="submit"
              className="btn btn-primary"
              data-testid="suggest-submit"
              disabled={loading}
              aria-busy={loading}
            >
              {loading ? 'Finding…' : 'Suggest analyses'}
            </button>
          </div>
          {error && (
            <p id="prompt-error" className="form-error" role="alert">
              {error}
            </p>
          )}
        </form>
        <div className="prompt-shortcuts">
          <div>
            <h2 className="eyebrow">Examples</h2>
            <ul className="chips">
              {EXAMPLES.map((example) => (
                <li key={example}>
                  <button
                    type="button"
                    className="chip chip-btn"
                    onClick={() => {
                      setPrompt(example);
                      void suggest(example);
                    }}
                  >
                    {example}
                  </button>
                </li>
              ))}
            </ul>
          </div>
          {recent.length > 0 && (
            <div>
              <h2 className="eyebrow">Your recent prompts</h2>
              <ul className="chips" data-testid="recent-prompts">
                {recent.map((item) => (
                  <li key={item}>
                    <button type="button" className="chip chip-btn" onClick={() => setPrompt(item)}>
                      {item}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      </section>

      <section className="suggestions" aria-labelledby="suggestions-title" aria-busy={loading}>
        <h2 id="suggestions-title" ref={resultsRef} tabIndex={-1}>
          {response ? `Suggested analyses for “${response.prompt}”` : 'Suggested analyses'}
        </h2>
        {catalogueError && (
          <p className="notice notice-warn">
            Scenario catalogue unavailable ({catalogueError}); inputs use the suggested values.
          </p>
        )}
        {response && !loading && <EngineLine response={response} />}
        {loading ? (
          <div className="card-list" role="status" aria-label="Loading suggestions">
            {[1, 2, 3].map((i) => (
              <div key={i} className="card skeleton-card" aria-hidden="true" />
            ))}
          </div>
        ) : response ? (
          <>
            {response.no_confident_match && (
              <p className="notice notice-warn" role="status">
                No scenario matches this question confidently. These are the closest; try naming a signal, a universe or
                a horizon.
              </p>
            )}
            {response.suggestions.length === 0 ? (
              <p className="empty">No scenarios found. Try rephrasing the question.</p>
            ) : (
              <div className="card-list">
                {response.suggestions.map((s) => (
                  <ScenarioCard
                    key={`${response.engine.prompt_hash}-${s.rank}-${s.scenario_id}`}
                    suggestion={s}
                    scenario={catalogue[s.scenario_id] ?? null}
                    prompt={response.prompt}
                    engine={response.engine}
                    universes={universes}
                    suggestId={response.suggest_id}
                    onRun={runScenario}
                    onStarted={started}
                  />
                ))}
              </div>
            )}
          </>
        ) : (
          <p className="empty">Ask a question above, or pick an example, to see ranked analyses you can run.</p>
        )}
      </section>
    </div>
  );
}

function EngineLine({ response }: { response: SuggestResponse }) {
  const { engine, understood } = response;
  const facts = [
    understood.tickers?.length ? `tickers ${understood.tickers.join(', ')}` : null,
    understood.universe ? `universe ${understood.universe}` : null,
    understood.sector ? `sector ${understood.sector}` : null,
    understood.horizon_days ? `horizon ${understood.horizon_days} d` : null,
    understood.risk ? `risk ${understood.risk}` : null,
  ].filter(Boolean);
  return (
    <div className="engine-line" data-testid="engine-provenance">
      {facts.length > 0 && <p>Understood: {facts.join(' · ')}</p>}
      {understood.unmatched?.length ? (
        <p data-testid="unmatched">Not matched: {understood.unmatched.map((w) => `“${w}”`).join(', ')}</p>
      ) : null}
      <p className="muted">
        Ranked by {engine.provider} / {engine.model} v{engine.version} in {Math.round(engine.latency_ms)} ms
        {engine.fallback ? ` (fallback: ${engine.fallback_reason ?? 'primary engine unavailable'})` : ''}
      </p>
    </div>
  );
}
