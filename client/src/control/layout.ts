/**
 * Which panel goes in which column, by screen width. A laptop gets three columns (the stage view, the
 * latent controls, the inputs), each scrolling on its own; a tablet two, with the presets and the audio under
 * the preview where a hand reaches them; a phone one. Panels are moved, never rebuilt, so a layout change
 * (rotating a tablet) keeps every control's state.
 */
import { h } from './dom.ts';

export type PanelName = 'preview' | 'stats' | 'recording' | 'models' | 'latent' | 'presets' | 'audio' | 'midi' | 'display';

const PLANS: { query: string; columns: PanelName[][] }[] = [
  { query: '(min-width: 1180px)', columns: [['preview', 'recording', 'stats', 'models'], ['latent'], ['presets', 'audio', 'midi', 'display']] },
  { query: '(min-width: 760px)', columns: [['preview', 'presets', 'audio', 'recording'], ['latent', 'stats', 'models', 'midi', 'display']] },
  { query: 'all', columns: [['preview', 'latent', 'presets', 'audio', 'recording', 'stats', 'models', 'midi', 'display']] },
];

export function arrange(main: HTMLElement, panels: Record<PanelName, HTMLElement>): void {
  const queries = PLANS.map((p) => window.matchMedia(p.query));
  let current = -1;
  const apply = () => {
    const plan = Math.max(0, queries.findIndex((q) => q.matches));
    if (plan === current) return;
    current = plan;
    const columns = PLANS[plan]!.columns;
    main.dataset['columns'] = String(columns.length);
    main.replaceChildren(...columns.map((names, i) => h('div', { class: `col col-${i}` }, ...names.map((n) => panels[n]))));
  };
  for (const q of queries) q.addEventListener('change', apply);
  apply();
}
