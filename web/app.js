// The dashboard page: plain ES module, no build step. It renders the view the
// server sends (src/core/dashboard-view.ts) as it arrives over server-sent
// events; the layout of the graph is dagre's, served from node_modules.
// Everything from the project is put in the page as text (textContent), never
// as HTML: task names, prompts and agent output are not ours.
import { Graph, layout } from '/assets/dagre.js';

const SVG = 'http://www.w3.org/2000/svg';
const NODE_WIDTH = 200;
const NODE_HEIGHT = 56;

const page = {
  view: undefined,
  selected: undefined,
  /** The selected task's log stream and the attempt it follows. */
  log: undefined,
  /** Show the output's bytes instead of its transcript (claude and codex events). */
  rawLog: false,
  detailSeq: 0,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  setAttrs(node, attrs);
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
}

/** `~` marks Bearing's estimate from tokens (codex); `+`, a lower bound (a CLI that reported no cost). */
function usd(n, { estimated = false, unknown = false } = {}) {
  return `${estimated ? '~' : ''}$${n.toFixed(n >= 1 ? 2 : 4)}${unknown ? '+' : ''}`;
}

function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function elapsedSince(iso) {
  return duration(Date.now() - Date.parse(iso));
}

/**
 * Live figures of a running attempt, when the status carries them
 * (`progress`: turns, the current tool, tokens, cost so far, `~` for an
 * estimate).
 */
function liveLine(task) {
  const live = task.more.progress;
  if (!live || typeof live !== 'object') return undefined;
  const parts = [];
  if (typeof live.turns === 'number')
    parts.push(`${live.turns} turn${live.turns === 1 ? '' : 's'}`);
  if (typeof live.tool === 'string') parts.push(live.tool);
  else if (live.tool && typeof live.tool.name === 'string') {
    parts.push([live.tool.name, live.tool.target].filter(Boolean).join(' '));
  }
  if (live.tokens && typeof live.tokens === 'object') {
    const total = Object.values(live.tokens).reduce(
      (sum, n) => sum + (typeof n === 'number' ? n : 0),
      0,
    );
    parts.push(`${thousands(total)} tokens`);
  }
  if (typeof live.cost_usd === 'number')
    parts.push(usd(live.cost_usd, { estimated: live.cost_estimated }));
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

function subLine(task) {
  if (task.status === 'running' && task.startedAt) {
    return liveLine(task) ?? `running ${elapsedSince(task.startedAt)}`;
  }
  const parts = [task.status];
  if (task.attempts > 0) parts.push(usd(task.costUsd, task.cost));
  if (task.durationMs > 0) parts.push(duration(task.durationMs));
  return parts.join(' · ');
}

// --- header ---------------------------------------------------------------------

function renderHeader(view) {
  document.title = `Bearing · ${view.project}`;
  document.getElementById('project').textContent = view.project;
  const run = document.getElementById('run');
  run.className = view.run.active ? 'run active' : 'run';
  run.replaceChildren(
    el('span', { class: 'dot' }),
    el('span', {
      text: view.run.active
        ? `run active${view.run.pid ? ` (pid ${view.run.pid})` : ''}`
        : 'no run active',
    }),
  );
  const p = view.progress;
  const t = view.tokens;
  const figure = (label, value, id) =>
    el(
      'div',
      { class: 'figure', id },
      el('span', { class: 'label', text: label }),
      el('span', { class: 'value', text: value }),
    );
  document.getElementById('totals').replaceChildren(
    figure('progress', `${p.completed}/${p.total} completed`, 'progress'),
    ...statusFigures(p, figure),
    figure(
      'cost',
      usd(view.cost.usd, {
        estimated: view.cost.estimated,
        unknown: view.cost.unknownFor.length > 0,
      }),
      'total-cost',
    ),
    figure(
      'tokens in / out',
      `${thousands(t.input + t.cache_read + t.cache_write)} / ${thousands(t.output)}`,
    ),
  );
  document.getElementById('next').textContent = view.next;
  const problems = document.getElementById('problems');
  problems.hidden = view.diagnostics.length === 0;
  problems.textContent = view.diagnostics.join('\n');
}

// --- graph ----------------------------------------------------------------------

/**
 * dagre's layout of the plan's shape. Laying out takes seconds at a thousand
 * tasks, and most updates change only states and costs: the layout is kept
 * until a task or a dependency is added or removed.
 */
let laidOut = { key: undefined, graph: undefined };

function layoutOf(view) {
  const key = JSON.stringify([view.tasks.map((t) => t.id), view.edges]);
  if (laidOut.key === key) return laidOut.graph;
  const g = new Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const task of view.tasks) g.setNode(task.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of view.edges) g.setEdge(edge.from, edge.to);
  layout(g);
  laidOut = { key, graph: g };
  return g;
}

function renderGraph(view) {
  const g = layoutOf(view);
  const { width = 0, height = 0 } = g.graph();
  const root = svg('svg', {
    width: Math.ceil(width),
    height: Math.ceil(height),
    viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`,
    role: 'img',
  });
  root.append(
    svg(
      'defs',
      {},
      svg(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }),
      ),
    ),
  );
  for (const e of g.edges()) {
    const points = g.edge(e).points;
    const d = points
      .map((pt, i) => `${i === 0 ? 'M' : 'L'} ${pt.x.toFixed(1)} ${pt.y.toFixed(1)}`)
      .join(' ');
    root.append(
      svg('path', {
        class: 'edge',
        d,
        'marker-end': 'url(#arrow)',
        'data-from': e.v,
        'data-to': e.w,
      }),
    );
  }
  for (const task of view.tasks) {
    const n = g.node(task.id);
    const x = n.x - NODE_WIDTH / 2;
    const y = n.y - NODE_HEIGHT / 2;
    const title = task.name !== task.id ? `${task.id}: ${task.name}` : task.id;
    const node = svg(
      'g',
      {
        class: `node${task.id === page.selected ? ' selected' : ''}`,
        transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
        'data-id': task.id,
        'data-status': task.status,
        tabindex: 0,
        onclick: () => select(task.id),
        onkeydown: (event) => {
          if (event.key === 'Enter') select(task.id);
        },
      },
      svg('title', { text: `${title} (${task.status})` }),
      svg('rect', { class: 'box', width: NODE_WIDTH, height: NODE_HEIGHT, rx: 7 }),
      svg('rect', { class: 'band', width: 6, height: NODE_HEIGHT, rx: 3 }),
      svg('text', { class: 'id', x: 16, y: 22, text: clip(task.id, 24) }),
      svg('text', {
        class: 'sub',
        x: 16,
        y: 41,
        text: clip(subLine(task), 34),
        'data-started': task.status === 'running' && !liveLine(task) ? task.startedAt : undefined,
      }),
    );
    root.append(node);
  }
  document.getElementById('graph').replaceChildren(root);
}

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// --- cost chart -----------------------------------------------------------------

function renderCosts(view) {
  const box = document.getElementById('costs');
  if (view.costs.length === 0) {
    box.replaceChildren(el('p', { class: 'hint', text: 'No task has run yet.' }));
    return;
  }
  const row = 22;
  const labelWidth = 150;
  const valueWidth = 80;
  const barMax = 360;
  const max = Math.max(...view.costs.map((c) => c.usd), 1e-9);
  const chart = svg('svg', {
    width: labelWidth + barMax + valueWidth,
    height: view.costs.length * row + 4,
    role: 'img',
    'aria-label': 'cost per task',
  });
  view.costs.forEach((c, i) => {
    const y = i * row + 2;
    const w = Math.max(2, (c.usd / max) * barMax);
    chart.append(
      svg('text', { x: 0, y: y + 14, text: clip(c.id, 20) }),
      svg('rect', {
        class: 'bar',
        x: labelWidth,
        y: y + 3,
        width: w,
        height: row - 8,
        rx: 3,
        'data-status': c.status,
      }),
      svg('text', { class: 'usd', x: labelWidth + w + 6, y: y + 14, text: usd(c.usd, c) }),
    );
  });
  box.replaceChildren(chart);
}

// --- detail panel ---------------------------------------------------------------

function select(id) {
  page.selected = id;
  for (const node of document.querySelectorAll('.node')) {
    node.classList.toggle('selected', node.dataset.id === id);
  }
  void loadDetail();
}

async function loadDetail() {
  const id = page.selected;
  const task = page.view?.tasks.find((t) => t.id === id);
  const panel = document.getElementById('detail');
  if (!task) {
    followLog(undefined);
    panel.replaceChildren(
      el('p', {
        class: 'hint',
        text: 'Select a task in the graph to see its prompt, attempts, errors and output.',
      }),
    );
    return;
  }
  const seq = ++page.detailSeq;
  const response = await fetch(`/api/tasks/${encodeURIComponent(id)}`);
  if (seq !== page.detailSeq) return;
  const detail = response.ok ? await response.json() : undefined;
  if (seq !== page.detailSeq) return;
  renderDetail(panel, task, detail);
  followLog(task.attempts > 0 ? { id, attempt: task.attempts } : undefined);
}

function renderDetail(panel, task, detail) {
  const section = (title, ...body) => [el('h4', { text: title }), ...body];
  const meta = [
    task.cli,
    task.model,
    task.attempts > 0 ? `${task.attempts} attempt${task.attempts === 1 ? '' : 's'}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const figures = [
    task.attempts > 0 ? `cost ${usd(task.costUsd, task.cost)}` : undefined,
    task.turns > 0 ? `${task.turns} turns` : undefined,
    task.tokens.output > 0 ? `${thousands(task.tokens.output)} tokens out` : undefined,
    task.durationMs > 0 ? duration(task.durationMs) : undefined,
  ].filter(Boolean);
  const children = [
    el('h3', { text: task.name }),
    el(
      'div',
      { class: 'meta' },
      el('span', {
        class: 'badge',
        'data-status': task.status,
        id: 'detail-status',
        text: task.status,
      }),
      ` ${task.id} · ${meta}`,
    ),
    figures.length > 0 ? el('div', { class: 'meta', text: figures.join(' · ') }) : undefined,
    el(
      'div',
      { class: 'actions' },
      actionButton(task, 'approve', 'Approve', 'primary'),
      actionButton(task, 'retry', 'Retry'),
    ),
  ];
  if (task.blockedBy)
    children.push(el('div', { class: 'meta', text: `blocked by ${task.blockedBy}` }));
  else if (task.waitingFor.length > 0)
    children.push(el('div', { class: 'meta', text: `waiting for ${task.waitingFor.join(', ')}` }));
  const live = liveLine(task);
  if (live) children.push(...section('Now', el('div', { text: live })));
  if (task.error) {
    children.push(
      ...section(
        'Error',
        el(
          'div',
          { class: 'error' },
          el('strong', { text: task.error.reason }),
          `\n${task.error.message}${task.error.advice ? `\n${task.error.advice}` : ''}`,
        ),
      ),
    );
  }
  if (task.summary)
    children.push(...section('Summary', el('pre', { class: 'summary', text: task.summary })));
  if (task.filesChanged.length > 0) {
    children.push(
      ...section(
        `Files changed (${task.filesChanged.length})`,
        el('ul', { class: 'files' }, ...task.filesChanged.map((f) => el('li', { text: f }))),
      ),
    );
  }
  if (task.landedCommit)
    children.push(
      el('div', { class: 'meta', text: `landed as ${task.landedCommit.slice(0, 12)}` }),
    );
  else if (task.worktree)
    children.push(el('div', { class: 'meta', text: `worktree ${task.worktree}` }));
  // `progress` is shown above, as one line.
  const more = Object.entries(task.more).filter(([key]) => key !== 'progress');
  if (more.length > 0) {
    children.push(
      ...section(
        'More',
        el(
          'dl',
          { class: 'more' },
          ...more.flatMap(([k, v]) => [
            el('dt', { text: k }),
            el('dd', { text: typeof v === 'string' ? v : JSON.stringify(v) }),
          ]),
        ),
      ),
    );
  }
  if (detail && detail.attempts.length > 0)
    children.push(...section('Attempts', attemptsTable(detail.attempts)));
  if (detail) {
    const p = detail.prompt;
    const title =
      p.source === 'sent'
        ? `Prompt as sent (attempt ${p.attempt})`
        : p.source === 'next'
          ? 'Prompt (what the next attempt receives)'
          : 'Prompt';
    children.push(
      ...section(
        title,
        p.text !== null
          ? el('pre', { class: 'prompt', text: p.text })
          : el('p', { class: 'hint', text: detail.note ?? '' }),
      ),
    );
  }
  if (task.attempts > 0) {
    children.push(
      ...section(
        task.status === 'running' ? 'Output (live)' : 'Output (last attempt)',
        el(
          'label',
          { class: 'raw-toggle' },
          el('input', {
            type: 'checkbox',
            id: 'raw-log',
            checked: page.rawLog,
            onchange: (event) => {
              page.rawLog = event.target.checked;
              followLog({ id: task.id, attempt: task.attempts }, true);
            },
          }),
          ' raw output (the agent’s events as printed)',
        ),
        el('pre', { id: 'log', class: 'log' }),
      ),
    );
  }
  // Keep the output already streamed when the panel is redrawn for the same attempt.
  const oldLog = document.getElementById('log');
  panel.replaceChildren(...children.filter(Boolean));
  const newLog = document.getElementById('log');
  if (
    oldLog &&
    newLog &&
    page.log &&
    page.log.id === task.id &&
    page.log.attempt === task.attempts
  ) {
    newLog.textContent = oldLog.textContent;
    newLog.scrollTop = newLog.scrollHeight;
  }
}

function attemptsTable(attempts) {
  return el(
    'table',
    { class: 'attempts' },
    el('tr', {}, ...['#', 'outcome', 'cost', 'time', 'error'].map((h) => el('th', { text: h }))),
    ...attempts.map((a) =>
      el(
        'tr',
        {},
        el('td', { text: String(a.attempt) }),
        el('td', { text: a.outcome }),
        el('td', {
          text: a.costUsd === null ? '' : usd(a.costUsd, { estimated: a.costEstimated }),
        }),
        el('td', { text: a.durationMs === null ? '' : duration(a.durationMs) }),
        el('td', { text: [a.error, ...a.notes].filter(Boolean).join('\n') }),
      ),
    ),
  );
}

function actionButton(task, action, label, kind) {
  const refusal = task.actions[action];
  return el('button', {
    id: `${action}-button`,
    class: kind,
    disabled: refusal !== null,
    title: refusal ?? `bearing ${action} ${task.id}`,
    text: label,
    onclick: () => act(task.id, action),
  });
}

async function act(id, action) {
  const response = await fetch(`/api/tasks/${encodeURIComponent(id)}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  let message = `${action} ${id}: HTTP ${response.status}`;
  try {
    const result = await response.json();
    message = [result.message, result.followUp].filter(Boolean).join(' ');
  } catch {
    // Not JSON (a 403 page): the status line says enough.
  }
  toast(message);
}

let toastTimer;
function toast(text) {
  const box = document.getElementById('toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, 6000);
}

/** Shown even at 0: what a person looks for first. */
const ALWAYS_SHOWN = new Set(['running', 'failed']);

/**
 * A figure for each status the status JSON counts (beside the completed
 * ones, shown as progress), so that a status added there is shown here too;
 * most only when a task has it.
 */
function statusFigures(progress, figure) {
  return Object.entries(progress)
    .filter(
      ([key, n]) => key !== 'total' && key !== 'completed' && (n > 0 || ALWAYS_SHOWN.has(key)),
    )
    .map(([key, n]) => figure(key.replaceAll('_', ' '), String(n), `count-${key}`));
}

/** Follows the output of one attempt; a different task or attempt closes the old stream. */
function followLog(target, restart = false) {
  if (
    !restart &&
    page.log &&
    target &&
    page.log.id === target.id &&
    page.log.attempt === target.attempt
  )
    return;
  page.log?.source.close();
  page.log = undefined;
  if (!target) return;
  const box = document.getElementById('log');
  if (box) box.textContent = '';
  const raw = page.rawLog ? '?raw=1' : '';
  const source = new EventSource(`/api/tasks/${encodeURIComponent(target.id)}/log${raw}`);
  page.log = { ...target, source };
  source.addEventListener('output', (event) => {
    const box = document.getElementById('log');
    if (!box || page.log?.source !== source) return;
    const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    box.textContent = (box.textContent + JSON.parse(event.data).text).slice(-200_000);
    if (stick) box.scrollTop = box.scrollHeight;
  });
}

// --- wiring ---------------------------------------------------------------------

function render(view) {
  page.view = view;
  document.getElementById('connection').textContent = 'live';
  renderHeader(view);
  renderGraph(view);
  renderCosts(view);
  if (page.selected) void loadDetail();
  document.body.dataset.generatedAt = view.generatedAt;
}

function connect() {
  const status = document.getElementById('connection');
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => {
    status.textContent = 'live';
  });
  events.addEventListener('view', (event) => render(JSON.parse(event.data)));
  events.addEventListener('problem', (event) => {
    status.textContent = JSON.parse(event.data).message;
  });
  events.addEventListener('error', () => {
    status.textContent = 'disconnected; retrying…';
  });
}

// The token has done its work (the cookie carries it now): keep it out of the
// address bar, the history and anything copied from there.
if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', '/');

setInterval(() => {
  for (const text of document.querySelectorAll('text[data-started]')) {
    text.textContent = `running ${elapsedSince(text.dataset.started)}`;
  }
}, 1000);

connect();
