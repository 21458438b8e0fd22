import type { Run } from '@/lib/types';

const HEADLINE = ['scenario_id', 'scenario_version', 'code_version', 'data_snapshots'];

function short(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The run manifest: what makes the result reproducible. */
export function ManifestPanel({ run }: { run: Run }) {
  const manifest: Record<string, unknown> | null = run.manifest;
  return (
    <section className="panel" aria-labelledby="manifest-title" data-testid="run-manifest">
      <h2 id="manifest-title">Manifest</h2>
      {!manifest ? (
        <p className="muted">No manifest recorded yet.</p>
      ) : (
        <>
          <dl className="facts facts-wide">
            {'params' in manifest && (
              <div>
                <dt>params</dt>
                <dd className="mono">
                  <ul className="kv">
                    {Object.entries((manifest.params ?? {}) as Record<string, unknown>).map(([k, v]) => (
                      <li key={k}>
                        <span className="muted">{k}</span> {short(v)}
                      </li>
                    ))}
                  </ul>
                </dd>
              </div>
            )}
            {HEADLINE.filter((key) => key in manifest).map((key) => (
              <div key={key}>
                <dt>{key.replace(/_/g, ' ')}</dt>
                <dd className="mono">
                  {manifest[key] && typeof manifest[key] === 'object' && !Array.isArray(manifest[key]) ? (
                    Object.keys(manifest[key] as object).length === 0 ? (
                      '—'
                    ) : (
                      <ul className="kv">
                        {Object.entries(manifest[key] as Record<string, unknown>).map(([k, v]) => (
                          <li key={k}>
                            <span className="muted">{k}</span> {short(v)}
                          </li>
                        ))}
                      </ul>
                    )
                  ) : (
                    short(manifest[key])
                  )}
                </dd>
              </div>
            ))}
          </dl>
          <details>
            <summary>Full manifest (JSON)</summary>
            <pre className="code">{JSON.stringify(manifest, null, 2)}</pre>
          </details>
        </>
      )}
    </section>
  );
}
