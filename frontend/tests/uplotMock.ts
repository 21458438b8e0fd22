/** Records what the chart component asks uPlot to draw. */
export const created: { opts: { series: { label?: string }[] }; data: unknown[][] }[] = [];

class FakeUPlot {
  width: number;
  static paths = { bars: () => () => null };
  static tzDate = (d: Date) => d;
  constructor(opts: { width: number; series: { label?: string }[] }, data: unknown[][], el: HTMLElement) {
    this.width = opts.width;
    created.push({ opts, data });
    el.appendChild(document.createElement('canvas'));
  }
  setSize() {}
  destroy() {}
}

export default { __esModule: true, default: FakeUPlot, created };
