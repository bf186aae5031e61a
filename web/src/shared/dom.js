// Small DOM helpers: h('tag', {attrs}, ...children). Text children become text nodes, never HTML, so
// server strings (messages, ids) cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'hidden') el.hidden = Boolean(v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
}

// A dismissable message at the end of `list` (error, warning or info); the list keeps the last three.
export function addMessage(list, text, kind = 'error') {
  const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss message' }, '×');
  const item = h('div', { class: `message ${kind}` }, h('span', {}, text), close);
  close.addEventListener('click', () => item.remove());
  list.append(item);
  while (list.children.length > 3) list.firstElementChild.remove();
  return item;
}
