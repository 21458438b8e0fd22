'use client';

export function PromptPage() {
  return (
    <section>
      <h1>Ask a research question</h1>
      <textarea data-testid="prompt-input" aria-label="Research prompt" />
      <button type="button" data-testid="suggest-submit">Suggest</button>
    </section>
  );
}
