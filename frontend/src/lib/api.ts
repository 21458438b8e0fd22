/** The REST client. Relative URLs only: the UI and the API share one origin (CloudFront / :8080). */
import { authSession } from './auth';
import type {
  Alert,
  AlertPage,
  AnalyticsReport,
  ArtifactLink,
  CancelResult,
  Catalogue,
  ErrorBody,
  ExportFormat,
  Run,
  RunAccepted,
  RunList,
  RunRequest,
  Scenario,
  SuggestResponse,
  UniverseList,
  WatchCreated,
  WatchRequest,
} from './types';

/** A 4xx/5xx from the API, carrying the `{code, message, field}` error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;

  constructor(status: number, code: string, message: string, field: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** One call with the session's bearer token; after a 401, once more with a refreshed token. */
async function send(path: string, init?: RequestInit): Promise<Response> {
  const session = authSession();
  const attempt = () =>
    fetch(path, {
      ...init,
      headers: {
        Accept: 'application/json',
        ...(init?.body ? { 'Content-Type': 'application/json' } : {}),
        ...session.authorization(),
      },
    });
  const response = await attempt();
  return response.status === 401 && (await session.recover()) ? attempt() : response;
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await send(path, init);
  } catch (exc) {
    throw new ApiError(0, 'network_error', `Could not reach the server (${(exc as Error).message})`);
  }
  const text = await response.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    const err = (body ?? {}) as Partial<ErrorBody>;
    throw new ApiError(
      response.status,
      err.code ?? `http_${response.status}`,
      err.message ?? (response.statusText || `Request failed with status ${response.status}`),
      err.field ?? null,
    );
  }
  return body as T;
}

function post<T>(path: string, payload: unknown): Promise<T> {
  return request<T>(path, { method: 'POST', body: JSON.stringify(payload) });
}

export const api = {
  scenarios: () => request<Catalogue>('/analysis/scenarios').then((r) => r.scenarios),
  scenario: (id: string) => request<Scenario>(`/analysis/scenarios/${encodeURIComponent(id)}`),
  suggest: (prompt: string, limit?: number) =>
    post<SuggestResponse>('/analysis/suggest', limit ? { prompt, limit } : { prompt }),
  run: (req: RunRequest) => post<RunAccepted>('/analysis/run', req),
  getRun: (id: string) => request<Run>(`/analysis/runs/${encodeURIComponent(id)}`),
  listRuns: (limit = 25, cursor?: string | null) => {
    const qs = new URLSearchParams({ limit: String(limit) });
    if (cursor) qs.set('cursor', cursor);
    return request<RunList>(`/analysis/runs?${qs.toString()}`);
  },
  universes: () => request<UniverseList>('/analysis/universes'),
  cancel: (id: string) => post<CancelResult>(`/analysis/runs/${encodeURIComponent(id)}/cancel`, {}),
  analytics: (from?: string, to?: string) => {
    const qs = new URLSearchParams();
    if (from) qs.set('from', from);
    if (to) qs.set('to', to);
    const query = qs.toString();
    return request<AnalyticsReport>(`/analysis/analytics${query ? `?${query}` : ''}`);
  },
  watch: (req: WatchRequest) => post<WatchCreated>('/analysis/watches', req),
  alerts: (limit = 20) => request<AlertPage>(`/analysis/alerts?limit=${limit}`),
  markAlertRead: (id: string) => post<Alert>(`/analysis/alerts/${encodeURIComponent(id)}/read`, {}),
  report: (id: string) => request<ArtifactLink>(`/analysis/runs/${encodeURIComponent(id)}/report`),
  exportLink: (id: string, format: ExportFormat) =>
    request<ArtifactLink>(`/analysis/runs/${encodeURIComponent(id)}/export?format=${format}`),
};
