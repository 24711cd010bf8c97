// `/`: the caller's runs, newest first, filtered by status and plan, refreshed every 2 s.
'use strict';
(() => {
  const main = document.getElementById('main');
  const state = { status: '', plan: '' };

  const statusSelect = S.el('select', { id: 'status-filter', 'aria-label': 'Status' },
    ['', 'running', 'waiting', 'completed', 'failed', 'cancelled', 'interrupted'].map((s) => S.el('option', { value: s }, s || 'any status')));
  const planSelect = S.el('select', { id: 'plan-filter', 'aria-label': 'Plan' }, S.el('option', { value: '' }, 'any plan'));
  const body = S.el('tbody', { id: 'runs' });
  const plans = S.el('ul', { id: 'plans', class: 'plans' });

  const render = (runs) => {
    S.clear(body);
    if (!runs.length) {
      S.append(body, [S.el('tr', {}, S.el('td', { colspan: 7, class: 'muted' }, 'No runs yet: start one from a plan below.'))]);
      return;
    }
    for (const run of runs) {
      const end = run.finished_at ? Date.parse(run.finished_at) : Date.now();
      const usage = run.usage || {};
      S.append(body, [S.el('tr', { 'data-run': run.run_id },
        S.el('td', {}, S.badge(run.status)),
        S.el('td', {}, S.el('a', { href: '/runs/' + encodeURIComponent(run.run_id), class: 'run-link' }, run.run_id), S.el('div', { class: 'muted' }, run.plan)),
        S.el('td', {}, run.user || ''),
        S.el('td', {}, S.time(run.created_at)),
        S.el('td', {}, S.duration(end - Date.parse(run.created_at))),
        S.el('td', { class: 'num' }, S.tokens(run.usage)),
        S.el('td', { class: 'num' }, S.cost(usage.cost_usd)))]);
    }
  };

  const refresh = async () => {
    const query = new URLSearchParams();
    if (state.status) query.set('status', state.status);
    if (state.plan) query.set('plan', state.plan);
    try {
      const answer = await S.json('/v1/runs?' + query.toString());
      render(answer.runs || []);
    } catch (error) {
      if (error.status !== 401) S.showError(error.message);
      return false;
    }
    return true;
  };

  const start = async () => {
    S.clear(main);
    S.append(main, [
      S.el('h1', {}, 'Runs'),
      S.el('div', { class: 'filters' }, statusSelect, planSelect),
      S.el('div', { class: 'scroll' }, S.el('table', { class: 'runs' },
        S.el('thead', {}, S.el('tr', {}, ['Status', 'Run', 'User', 'Started', 'Duration', 'Tokens', 'Cost'].map((h) => S.el('th', {}, h)))),
        body)),
      S.el('h2', {}, 'Plans'), plans,
    ]);
    statusSelect.addEventListener('change', () => { state.status = statusSelect.value; refresh(); });
    planSelect.addEventListener('change', () => { state.plan = planSelect.value; refresh(); });
    if (!(await refresh())) return;
    try {
      const answer = await S.json('/v1/plans');
      for (const plan of answer.plans || []) {
        S.append(planSelect, [S.el('option', { value: plan.name }, plan.name)]);
        S.append(plans, [S.el('li', {}, S.el('a', { href: '/plans/' + encodeURIComponent(plan.name) }, plan.title || plan.name),
          plan.description ? S.el('div', { class: 'muted' }, plan.description) : null)]);
      }
    } catch (error) { S.showError(error.message); }
    setInterval(refresh, 2000);
  };
  document.addEventListener('DOMContentLoaded', start);
})();
