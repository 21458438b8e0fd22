import { Suspense } from 'react';
import { RunPage } from '@/components/RunPage';

// A static route with `?id=`: on CloudFront `/runs/*` belongs to the SSE stream.
export default function Run() {
  return (
    <Suspense
      fallback={
        <div className="page">
          <p className="muted">Loading run…</p>
        </div>
      }
    >
      <RunPage />
    </Suspense>
  );
}
