// SVG drawn with DOM calls: the plan's step graph and a quality gate's scores per round.
'use strict';
const Charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = (tag, attrs, text) => {
    const node = document.createElementNS(NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const clip = (text, max) => (text.length > max ? text.slice(0, max - 1) + '…' : text);

  // The layout of GET /v1/plans/{name}: boxes, groups (map, loop) and edges, positioned.
  const graph = (layout) => {
    const root = svg('svg', { class: 'graph', viewBox: '0 0 ' + layout.width + ' ' + layout.height, width: layout.width, role: 'img', 'aria-label': 'Step graph' });
    const defs = svg('defs');
    const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
    defs.appendChild(marker);
    root.appendChild(defs);
    for (const group of layout.groups) {
      root.appendChild(svg('rect', { x: group.x, y: group.y, width: group.w, height: group.h, rx: 6, class: 'group ' + group.kind, 'data-step': group.id }));
      root.appendChild(svg('text', { x: group.x + 8, y: group.y + 16, class: 'group-label' }, clip(group.label, 52)));
    }
    for (const node of layout.nodes) {
      const g = svg('g', { class: 'node ' + node.kind, 'data-step': node.id });
      g.appendChild(svg('rect', { x: node.x, y: node.y, width: node.w, height: node.h, rx: node.kind === 'start' || node.kind === 'end' ? node.h / 2 : 4 }));
      const label = svg('text', { x: node.x + node.w / 2, y: node.y + node.h / 2 + 4, 'text-anchor': 'middle' }, clip(node.label, Math.floor(node.w / 7)));
      label.appendChild(svg('title', {}, node.label));
      g.appendChild(label);
      root.appendChild(g);
    }
    for (const edge of layout.edges) {
      const d = edge.points.map((p, i) => (i ? 'L' : 'M') + p[0] + ',' + p[1]).join(' ');
      root.appendChild(svg('path', { d, class: 'edge' + (edge.dashed ? ' dashed' : ''), 'marker-end': 'url(#arrow)' }));
      if (edge.label) {
        const [a, b] = edge.dashed ? [edge.points[1], edge.points[2]] : [edge.points[0], edge.points[1]];
        const text = svg('text', { x: a[0] + 4, y: (a[1] + b[1]) / 2 + 4, class: 'edge-label' }, clip(edge.label, 40));
        text.appendChild(svg('title', {}, edge.label));
        root.appendChild(text);
      }
    }
    return root;
  };

  // One line per dimension and one for the weighted score, rounds on x, 0–10 on y, the
  // threshold dashed. `rounds`: [{iteration, scores: {dim: n}, score, threshold, passed}].
  const gate = (step, rounds) => {
    const width = 360, height = 200, left = 30, right = 110, top = 10, bottom = 30;
    const plotW = width - left - right, plotH = height - top - bottom;
    const max = Math.max(10, ...rounds.map((r) => Math.max(r.score || 0, r.threshold || 0, ...Object.values(r.scores || {}))));
    const x = (i) => left + (rounds.length === 1 ? plotW / 2 : (plotW * i) / (rounds.length - 1));
    const y = (v) => top + plotH - (plotH * v) / max;
    const root = svg('svg', { class: 'gate-chart', viewBox: '0 0 ' + width + ' ' + height, 'data-step': step, role: 'img', 'aria-label': 'Gate scores per round' });
    root.appendChild(svg('line', { x1: left, y1: y(0), x2: left + plotW, y2: y(0), class: 'axis' }));
    for (const v of [0, max / 2, max]) root.appendChild(svg('text', { x: left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, Math.round(v)));
    rounds.forEach((r, i) => root.appendChild(svg('text', { x: x(i), y: height - 10, 'text-anchor': 'middle', class: 'tick round-label' }, 'round ' + (r.iteration || i + 1))));
    const threshold = rounds[rounds.length - 1].threshold;
    if (typeof threshold === 'number') {
      root.appendChild(svg('line', { x1: left, y1: y(threshold), x2: left + plotW, y2: y(threshold), class: 'threshold' }));
      root.appendChild(svg('text', { x: left + 4, y: y(threshold) - 4, class: 'legend threshold-label' }, 'threshold ' + threshold));
    }
    const dimensions = [...new Set(rounds.flatMap((r) => Object.keys(r.scores || {})))];
    const series = dimensions.map((d) => [d, rounds.map((r) => (r.scores || {})[d])]);
    series.push(['score', rounds.map((r) => r.score)]);
    series.forEach(([name, values], index) => {
      const cls = name === 'score' ? 'series total' : 'series c' + (index % 6);
      const points = values.map((v, i) => [x(i), typeof v === 'number' ? y(v) : null]).filter((p) => p[1] !== null);
      if (points.length > 1) root.appendChild(svg('polyline', { points: points.map((p) => p.join(',')).join(' '), class: cls }));
      values.forEach((v, i) => {
        if (typeof v !== 'number') return;
        const dot = svg('circle', { cx: x(i), cy: y(v), r: 3, class: 'point ' + cls, 'data-dimension': name, 'data-round': rounds[i].iteration || i + 1 });
        dot.appendChild(svg('title', {}, name + ', round ' + (rounds[i].iteration || i + 1) + ': ' + v));
        root.appendChild(dot);
      });
      root.appendChild(svg('text', { x: left + plotW + 4, y: top + 12 + index * 13, class: 'legend ' + cls }, clip(name, 16)));
    });
    return root;
  };
  return { graph, gate };
})();
