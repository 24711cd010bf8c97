// `/plans/{name}`: title, description, the step graph, and a form built from the input schema
// that starts a run and opens its page. Its confirm steps wait for approve / reject there.
'use strict';
(() => {
  const main = document.getElementById('main');
  const name = decodeURIComponent(location.pathname.split('/')[2] || '');

  const typeOf = (schema) => {
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    if (type) return type;
    if (Array.isArray(schema.enum)) return typeof schema.enum[0] === 'number' ? 'number' : 'string';
    return 'json';
  };

  // One labelled control per input; `read()` gives its value or undefined when left empty.
  const field = (key, schema, required) => {
    const type = typeOf(schema);
    const idName = 'input-' + key;
    let control;
    let read;
    if (Array.isArray(schema.enum)) {
      control = S.el('select', { id: idName, name: key },
        required || schema.default !== undefined ? null : S.el('option', { value: '' }, '—'),
        schema.enum.map((v, i) => S.el('option', { value: String(i), selected: JSON.stringify(v) === JSON.stringify(schema.default) }, String(v))));
      read = () => (control.value === '' ? undefined : schema.enum[Number(control.value)]);
    } else if (type === 'boolean') {
      control = S.el('input', { id: idName, name: key, type: 'checkbox', checked: schema.default === true });
      read = () => control.checked;
    } else if (type === 'integer' || type === 'number') {
      control = S.el('input', { id: idName, name: key, type: 'number', required, min: schema.minimum, max: schema.maximum,
        step: type === 'integer' ? 1 : 'any', value: schema.default });
      read = () => (control.value === '' ? undefined : Number(control.value));
    } else if (type === 'string') {
      const long = !schema.maxLength || schema.maxLength > 200;
      control = S.el(long ? 'textarea' : 'input', { id: idName, name: key, required, minlength: schema.minLength, maxlength: schema.maxLength, rows: long ? 3 : undefined });
      if (schema.default !== undefined) control.value = String(schema.default);
      read = () => (control.value === '' ? undefined : control.value);
    } else {
      control = S.el('textarea', { id: idName, name: key, required, rows: 3, class: 'json', placeholder: 'JSON' });
      if (schema.default !== undefined) control.value = JSON.stringify(schema.default);
      read = () => {
        if (control.value.trim() === '') return undefined;
        try { return JSON.parse(control.value); } catch (e) { throw new S.Failure(key + ': not valid JSON (' + e.message + ')'); }
      };
    }
    const message = S.el('div', { class: 'error field-error', id: 'error-' + key, hidden: true });
    const row = S.el('div', { class: 'field' },
      S.el('label', { for: idName }, key, required ? S.el('span', { class: 'required', title: 'required' }, ' *') : null, ' ', S.el('span', { class: 'muted' }, type)),
      control, schema.description ? S.el('div', { class: 'muted' }, schema.description) : null, message);
    return { key, row, read, message };
  };

  const form = (plan) => {
    const schema = plan.input_schema || {};
    const required = new Set(schema.required || []);
    const fields = Object.entries(schema.properties || {}).map(([k, s]) => field(k, s || {}, required.has(k)));
    const submit = S.el('button', { type: 'submit', id: 'start' }, 'Start run');
    const problem = S.el('p', { class: 'error', id: 'form-error', hidden: true });
    const element = S.el('form', { id: 'run-form', novalidate: false }, fields.map((f) => f.row), problem, submit);
    element.addEventListener('submit', async (event) => {
      event.preventDefault();
      problem.hidden = true;
      fields.forEach((f) => { f.message.hidden = true; });
      const inputs = {};
      try {
        for (const f of fields) { const value = f.read(); if (value !== undefined) inputs[f.key] = value; }
      } catch (error) { problem.hidden = false; problem.textContent = error.message; return; }
      submit.disabled = true;
      try {
        const answer = await S.json('/v1/plans/' + encodeURIComponent(plan.name) + '/runs', { method: 'POST', body: { inputs, confirm: 'ask' } });
        location.assign('/runs/' + encodeURIComponent(answer.run_id));
      } catch (error) {
        submit.disabled = false;
        problem.hidden = false;
        problem.textContent = error.message;
        // InputCheck's details: [{field, message}] per input.
        const details = Array.isArray(error.details) ? error.details : (error.details && error.details.errors) || [];
        for (const d of details) {
          const f = fields.find((x) => x.key === d.field);
          if (f) { f.message.hidden = false; f.message.textContent = d.message || ''; }
        }
      }
    });
    return element;
  };

  const start = async () => {
    let plan;
    try {
      plan = await S.json('/v1/plans/' + encodeURIComponent(name));
    } catch (error) {
      S.clear(main).appendChild(S.el('p', { class: 'error' }, error.status === 404 ? 'No plan named ' + name + ' here.' : error.message));
      return;
    }
    S.clear(main);
    S.append(main, [
      S.el('h1', {}, plan.title || plan.name),
      S.el('p', { class: 'muted' }, plan.name),
      plan.description ? S.el('p', {}, plan.description) : null,
      S.el('h2', {}, 'Start a run'), form(plan),
      plan.graph ? S.el('section', {}, S.el('h2', {}, 'Steps'), S.el('div', { class: 'scroll' }, Charts.graph(plan.graph))) : null,
    ]);
  };
  document.addEventListener('DOMContentLoaded', start);
})();
