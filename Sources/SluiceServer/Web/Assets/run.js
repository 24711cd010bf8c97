// `/runs/{id}`: the run's steps as a tree (map items and loop rounds nested), streamed model
// text, gate charts, model calls with tokens and cost, the report, the raw events, cancel.
'use strict';
(() => {
  const main = document.getElementById('main');
  const id = decodeURIComponent(location.pathname.split('/')[2] || '');
  const path = '/v1/runs/' + encodeURIComponent(id);
  const state = { done: false, status: 'running', nodes: new Map(), latest: new Map(), scopes: new Map(), gates: new Map(), tokens: 0, cost: 0, costKnown: false, last: 0, following: false };

  const status = S.el('span', { id: 'status' }, S.badge('running'));
  const totals = S.el('span', { id: 'totals' });
  const cancel = S.el('button', { type: 'button', id: 'cancel', hidden: true }, 'Cancel run');
  const resume = S.el('button', { type: 'button', id: 'resume', hidden: true }, 'Resume run');
  const tree = S.el('ul', { id: 'steps', class: 'tree' });
  const gates = S.el('div', { id: 'gates' });
  const calls = S.el('tbody', { id: 'calls' });
  const report = S.el('section', { id: 'report' });
  const log = S.el('pre', { id: 'log' });
  const failure = S.el('p', { id: 'run-error', class: 'error', hidden: true });
  const title = S.el('h1', {}, 'Run ' + id);
  const planLink = S.el('a', { id: 'plan-link' });

  const setStatus = (value) => {
    state.status = value;
    S.clear(status).appendChild(S.badge(value));
    cancel.hidden = value !== 'running' && value !== 'waiting';
    cancel.disabled = false;
    resume.hidden = !['failed', 'cancelled', 'interrupted'].includes(value);
    resume.disabled = false;
  };
  const showTotals = (usage) => {
    if (usage) {
      state.tokens = (usage.input_tokens || 0) + (usage.output_tokens || 0);
      if (usage.cost_usd !== undefined && usage.cost_usd !== null) { state.cost = usage.cost_usd; state.costKnown = true; }
    }
    totals.textContent = state.tokens + ' tokens' + (state.costKnown ? ', ' + S.cost(state.cost) : '');
  };

  // A skipped step says no parent: it goes beside the last step of its map item or loop round.
  const scope = (p) => [p.item === undefined ? '' : p.item, p.iteration === undefined ? '' : p.iteration].join('|');
  const key = (p) => [p.step, p.item === undefined ? '' : p.item, p.iteration === undefined ? '' : p.iteration].join('|');

  // Where a starting step goes: under its map item or loop round when it has a parent.
  const container = (p) => {
    const parent = p.parent && state.latest.get(p.parent);
    if (!parent) return tree;
    let label = null;
    if (parent.kind === 'map' && p.item !== undefined) label = 'item ' + (p.item + 1);
    if (parent.kind === 'loop' && p.iteration !== undefined) label = 'round ' + p.iteration;
    if (!label) return parent.children;
    if (!parent.groups.has(label)) {
      const list = S.el('ul', { class: 'tree' });
      parent.children.appendChild(S.el('li', { class: 'group', 'data-group': label }, S.el('span', { class: 'muted' }, label), list));
      parent.groups.set(label, list);
    }
    return parent.groups.get(label);
  };

  const startStep = (p) => {
    const node = { kind: p.kind, groups: new Map(), retries: 0 };
    node.badge = S.el('span', { class: 'state' }, S.badge('running'));
    node.timing = S.el('span', { class: 'muted timing' });
    node.extra = S.el('span', { class: 'muted extra' });
    node.error = S.el('div', { class: 'error step-error', hidden: true });
    node.text = S.el('pre', { class: 'delta', hidden: true });
    node.children = S.el('ul', { class: 'tree' });
    node.li = S.el('li', { class: 'step', 'data-step': p.step, 'data-kind': p.kind || '', 'data-state': 'running' },
      S.el('div', { class: 'line' }, node.badge, ' ', S.el('strong', {}, p.step), ' ', p.kind ? S.el('span', { class: 'kind' }, p.kind) : null,
        ' ', S.el('span', {}, p.title || p.message || ''), ' ', node.timing, ' ', node.extra),
      node.error, node.text, node.children);
    const list = p.parent || p.type !== 'step.skipped' ? container(p) : (state.scopes.get(scope(p)) || tree);
    list.appendChild(node.li);
    if (p.type === 'step.started') state.scopes.set(scope(p), list);
    state.nodes.set(key(p), node);
    state.latest.set(p.step, node);
  };
  // A confirm step's question, with approve / reject while the step waits.
  const ask = (node, p) => {
    const answer = (approve) => async () => {
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await S.json(path + '/answer', { method: 'POST', body: { approve } });
      } catch (error) {
        buttons.forEach((b) => { b.disabled = false; });
        S.showError(error.message);
        return;
      }
      // A run parked in the store at its question (status `waiting`) goes on now: follow it.
      if (state.done) { state.done = false; setStatus('running'); follow(); }
    };
    const buttons = [S.el('button', { type: 'button', class: 'approve' }, 'Approve'), S.el('button', { type: 'button', class: 'reject' }, 'Reject')];
    buttons[0].addEventListener('click', answer(true));
    buttons[1].addEventListener('click', answer(false));
    node.answer = S.el('div', { class: 'answer' }, buttons[0], ' ', buttons[1]);
    node.li.appendChild(S.el('div', { class: 'question' }, S.el('strong', {}, p.message || ''),
      S.el('pre', {}, JSON.stringify(p.details === undefined ? null : p.details, null, 2)), node.answer));
  };
  const endStep = (p, value) => {
    const node = state.nodes.get(key(p));
    if (!node) return null;
    if (node.answer) { node.answer.remove(); node.answer = null; }
    node.li.setAttribute('data-state', value);
    S.clear(node.badge).appendChild(S.badge(value));
    if (p.duration_ms !== undefined) node.timing.textContent = S.duration(p.duration_ms);
    return node;
  };

  const onStatus = (p) => {
    const node = state.nodes.get(key(p));
    switch (p.type) {
      case 'run.resumed':
        state.done = false;
        setStatus('running');
        showError('');
        if (p.title) title.textContent = p.title;
        break;
      case 'run.started':
        if (p.title) title.textContent = p.title;
        break;
      case 'step.started': startStep(p); break;
      case 'step.delta':
        if (node) { node.text.hidden = false; node.text.textContent += p.text || ''; }
        break;
      case 'step.completed': {
        const done = endStep(p, 'completed');
        if (done && p.output !== undefined) done.li.insertBefore(output('output', p.output), done.children);
        break;
      }
      case 'step.skipped': {
        if (!node) startStep(p);
        const skipped = endStep(p, 'skipped');
        if (skipped) skipped.extra.textContent = p.reason || '';
        break;
      }
      case 'step.failed': {
        const failed = endStep(p, 'failed');
        if (failed && p.error) { failed.error.hidden = false; failed.error.textContent = (p.error.type || '') + ': ' + (p.error.message || ''); }
        break;
      }
      case 'step.retrying':
        if (node) { node.retries += 1; node.extra.textContent = 'retries ' + node.retries + (p.reason ? ' (' + p.reason + ')' : ''); }
        break;
      case 'gate.evaluated': {
        const rounds = state.gates.get(p.step) || [];
        rounds.push(p);
        state.gates.set(p.step, rounds);
        drawGates();
        break;
      }
      case 'model.usage': {
        const tokens = (p.input_tokens || 0) + (p.output_tokens || 0);
        state.tokens += tokens;
        if (typeof p.cost_usd === 'number') { state.cost += p.cost_usd; state.costKnown = true; }
        showTotals();
        calls.appendChild(S.el('tr', {}, S.el('td', {}, p.step || ''), S.el('td', {}, p.model || ''),
          S.el('td', { class: 'num' }, p.input_tokens || 0), S.el('td', { class: 'num' }, p.output_tokens || 0),
          S.el('td', { class: 'num' }, S.cost(p.cost_usd)), S.el('td', {}, p.outcome || '')));
        break;
      }
      case 'input.requested':
        if (node) ask(node, p);
        break;
      default: break;
    }
  };

  // A value folded away, cut at 20,000 characters (the whole is in the raw events).
  const output = (label, value) => {
    const text = JSON.stringify(value, null, 2) || '';
    return S.el('details', { class: 'output' }, S.el('summary', {}, label),
      S.el('pre', {}, text.length > 20000 ? text.slice(0, 20000) + '\n…' : text));
  };

  const drawGates = () => {
    S.clear(gates);
    for (const [step, rounds] of state.gates) {
      S.append(gates, [S.el('h3', {}, 'Quality gate ' + step), Charts.gate(step, rounds)]);
    }
  };

  const showResult = (result) => {
    S.clear(report);
    if (result === undefined || result === null) return;
    if (typeof result.report_content === 'string') {
      S.append(report, [S.el('h2', {}, 'Report'), Markdown.render(result.report_content)]);
    } else {
      S.append(report, [S.el('h2', {}, 'Result'), S.el('pre', {}, JSON.stringify(result, null, 2))]);
    }
  };
  const showError = (message) => { failure.hidden = !message; failure.textContent = message || ''; };

  const onEvent = (event) => {
    const p = event.payload;
    state.last = Number(event.id) || state.last;
    log.appendChild(document.createTextNode(event.event + ' ' + event.data + '\n'));
    if (event.event === 'final_result') {
      state.done = true;
      setStatus('completed');
      showTotals(p.usage);
      showResult(p.result);
    } else if (event.event === 'error') {
      state.done = true;
      setStatus(p.status || 'failed');
      showTotals(p.usage);
      showError(p.error_message);
    } else {
      onStatus(p);
    }
  };

  // A stream that ends without an end event: the run stopped elsewhere (killed) or not yet.
  const onClose = async () => {
    if (state.done) return;
    try {
      const summary = await S.json(path);
      if (summary.status !== 'running') { state.done = true; setStatus(summary.status); }
    } catch (error) { state.done = true; }
  };

  const start = async () => {
    cancel.addEventListener('click', async () => {
      cancel.disabled = true;
      try { await S.json(path, { method: 'DELETE' }); } catch (error) { S.showError(error.message); return; }
      // A waiting run is cancelled in the store: follow its log to the end it gets there.
      if (state.done) { state.done = false; follow(); }
    });
    // Resumed, the run's log goes on after its end event: follow it from there.
    resume.addEventListener('click', async () => {
      resume.disabled = true;
      try {
        await S.json(path + '/resume', { method: 'POST', body: { confirm: 'ask' } });
      } catch (error) { resume.disabled = false; S.showError(error.message); return; }
      state.done = false;
      setStatus('running');
      showError('');
      follow();
    });
    let summary;
    try {
      summary = await S.json(path);
    } catch (error) {
      S.clear(main).appendChild(S.el('p', { class: 'error' }, error.status === 404 ? 'No run ' + id + ' here.' : error.message));
      return;
    }
    planLink.setAttribute('href', '/plans/' + encodeURIComponent(summary.plan));
    planLink.textContent = summary.plan;
    S.clear(main);
    S.append(main, [
      title,
      S.el('p', { class: 'meta' }, status, ' ', planLink, ' · started ', S.time(summary.created_at), ' · ', totals, ' ', cancel, resume),
      failure,
      output('inputs', summary.inputs === undefined ? {} : summary.inputs),
      S.el('h2', {}, 'Steps'), tree, gates,
      S.el('details', { class: 'calls' }, S.el('summary', {}, 'Model calls'), S.el('div', { class: 'scroll' }, S.el('table', {},
        S.el('thead', {}, S.el('tr', {}, ['Step', 'Model', 'In', 'Out', 'Cost', 'Outcome'].map((h) => S.el('th', {}, h)))), calls))),
      report,
      S.el('details', {}, S.el('summary', {}, 'Raw events'), log),
    ]);
    setStatus(summary.status);
    showTotals();  // counted from the events; the end event's usage is the final word
    follow();
  };
  const follow = async () => {
    if (state.following) return;
    state.following = true;
    try {
      await S.stream(path + '/events', onEvent, () => state.done, onClose, state.last);
    } catch (error) { S.showError(error.message); }
    state.following = false;
  };
  document.addEventListener('DOMContentLoaded', start);
})();
