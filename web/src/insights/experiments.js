// The experiments panel (docs/experiments.md): each experiment on a default with its arms, users per arm
// and verdict, from GET /api/insights/experiments. The rows stay in the card's data table and downloads.
import { h } from '../shared/dom.js';

export const EXPERIMENTS_VIEW = {
  name: 'experiments',
  explanation: 'Experiments on defaults: each user gets one arm\u2019s default; the verdict uses a test that may be looked at daily.',
};

const BADGES = {
  adopt: 'Adopt',
  keep_control: 'Keep control',
  continue: 'Running',
  invalid: 'Check split',
};

// One line per experiment in the card's figures area: name, option and arms, users per arm, verdict.
export function renderExperiments(card, table) {
  if (card.experiments) card.experiments.remove();
  const rows = table.rows || [];
  const list = h('ul', { class: 'experiments' });
  for (const r of rows) {
    const users = Array.isArray(r.users) ? r.users.join(' / ') : String(r.users ?? '');
    const badge = BADGES[r.decision] || r.decision || '';
    list.append(
      h(
        'li',
        { 'data-experiment': r.name, 'data-decision': r.decision || '' },
        h('span', { class: `badge ${r.decision || ''}` }, r.status === 'stopped' ? 'Stopped' : badge),
        h('strong', {}, r.name),
        h('span', { class: 'muted' }, ` ${r.option}: ${String(r.arms).split(',').join(' vs ')} \u00b7 users ${users}`),
        h('p', { class: 'verdict' }, r.verdict ? r.verdict[0].toUpperCase() + r.verdict.slice(1) : ''),
      ),
    );
  }
  card.experiments = list;
  if (rows.length) card.figures.after(list);
}
