// A small Markdown renderer that builds DOM nodes, never markup: headings, paragraphs, lists,
// tables, block quotes, code, rules; emphasis, code spans, links and [n] citations inline.
// Raw HTML is shown as the text it is; links go only to http(s) or to this page's anchors.
'use strict';
const Markdown = (() => {
  const isTableRow = (line) => /^\s*\|.*\|\s*$/.test(line);
  const isTableRule = (line) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);
  const cells = (line) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  const listItem = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;

  // Sources are list items starting `[n]`: they get the id `source-n` a citation links to.
  const render = (text) => {
    const root = document.createElement('div');
    root.className = 'markdown';
    const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
    const sources = new Set();
    for (const line of lines) {
      const m = /^\s*(?:[-*+]|\d+[.)])\s+\[(\d{1,4})\]/.exec(line);
      if (m) sources.add(m[1]);
    }
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) { i += 1; continue; }
      let m;
      if ((m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
        root.appendChild(inline(document.createElement('h' + Math.min(6, m[1].length + 1)), m[2], sources));
        i += 1;
      } else if (/^\s*```/.test(line)) {
        const code = [];
        i += 1;
        while (i < lines.length && !/^\s*```/.test(lines[i])) { code.push(lines[i]); i += 1; }
        i += 1;
        root.appendChild(S.el('pre', {}, S.el('code', {}, code.join('\n'))));
      } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
        root.appendChild(document.createElement('hr'));
        i += 1;
      } else if (isTableRow(line) && i + 1 < lines.length && isTableRule(lines[i + 1])) {
        const table = S.el('table', {});
        const head = S.el('tr', {});
        for (const cell of cells(line)) head.appendChild(inline(document.createElement('th'), cell, sources));
        table.appendChild(S.el('thead', {}, head));
        const body = S.el('tbody', {});
        i += 2;
        while (i < lines.length && isTableRow(lines[i])) {
          const row = S.el('tr', {});
          for (const cell of cells(lines[i])) row.appendChild(inline(document.createElement('td'), cell, sources));
          body.appendChild(row);
          i += 1;
        }
        table.appendChild(body);
        root.appendChild(S.el('div', { class: 'scroll' }, table));
      } else if (/^\s*>/.test(line)) {
        const quoted = [];
        while (i < lines.length && /^\s*>/.test(lines[i])) { quoted.push(lines[i].replace(/^\s*>\s?/, '')); i += 1; }
        const quote = document.createElement('blockquote');
        S.append(quote, [...render(quoted.join('\n')).childNodes]);
        root.appendChild(quote);
      } else if (listItem.test(line)) {
        const ordered = /^\s*\d/.test(line);
        const list = document.createElement(ordered ? 'ol' : 'ul');
        // A marker of the other kind (`-` after `1.`) starts another list.
        while (i < lines.length && listItem.test(lines[i]) && /^\s*\d/.test(lines[i]) === ordered) {
          let content = listItem.exec(lines[i])[3];
          i += 1;
          while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !listItem.test(lines[i])) { content += ' ' + lines[i].trim(); i += 1; }
          const item = document.createElement('li');
          const source = /^\[(\d{1,4})\]\s/.exec(content);
          if (source) item.id = 'source-' + source[1];
          list.appendChild(inline(item, content, sources, Boolean(source)));
        }
        root.appendChild(list);
      } else {
        const paragraph = [];
        while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*```|\s*>)/.test(lines[i]) && !listItem.test(lines[i]) &&
          !(isTableRow(lines[i]) && i + 1 < lines.length && isTableRule(lines[i + 1]))) {
          paragraph.push(lines[i].trim());
          i += 1;
        }
        root.appendChild(inline(document.createElement('p'), paragraph.join(' '), sources));
      }
    }
    return root;
  };

  // Inline spans, left to right: `code`, [text](url), [n], **strong**, *em* / _em_.
  const pattern = /`([^`]+)`|\[([^\]]+)\]\(([^()\s]+)\)|\[(\d{1,4})\]|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|\b_([^_]+)_\b/g;
  const inline = (node, text, sources, isSource) => {
    const re = new RegExp(pattern.source, 'g');
    let last = 0;
    let m;
    while ((m = re.exec(text))) {
      const end = re.lastIndex;
      if (m.index > last) node.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) node.appendChild(S.el('code', {}, m[1]));
      else if (m[2] !== undefined) {
        const href = S.safeHref(m[3]);
        const link = inline(S.el('a', { href, rel: 'noopener noreferrer nofollow' }), m[2], sources);
        if (/^https?:/.test(href)) link.setAttribute('target', '_blank');
        node.appendChild(link);
      } else if (m[4] !== undefined) {
        const own = isSource && m.index === 0;
        if (sources.has(m[4]) && !own) node.appendChild(S.el('a', { href: '#source-' + m[4], class: 'cite' }, '[' + m[4] + ']'));
        else node.appendChild(document.createTextNode('[' + m[4] + ']'));
      } else if (m[5] !== undefined || m[6] !== undefined) node.appendChild(inline(document.createElement('strong'), m[5] || m[6], sources));
      else node.appendChild(inline(document.createElement('em'), m[7] || m[8], sources));
      last = end;
      re.lastIndex = end;
    }
    if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)));
    return node;
  };
  return { render };
})();
