// The raftmq web view: one event stream from a node (/api/events), rendered as tables, charts and
// a timeline. When the stream drops, the page connects to another node it knows and says so.
// Plain ES2020 module; uPlot (window.uPlot) comes from the node's jar.

const CHARTS = [
  { key: 'produceBytes', title: 'produce bytes/s' },
  { key: 'fetchBytes', title: 'fetch bytes/s' },
  { key: 'produceRecords', title: 'produce records/s' },
  { key: 'fetchRecords', title: 'fetch records/s' },
  { key: 'requests', title: 'requests/s' },
];
const HISTORY_SECONDS = 300;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

const state = {
  cluster: null,
  nodes: new Map(),          // node id -> its /api/local view (or an unreachable marker)
  history: new Map(),        // node id -> [{timeMs, produceBytes, ...}]
  addresses: new Map(),      // node id -> "host:port" of its HTTP server
  current: null,             // the address the stream comes from
  currentNode: null,
  unreachable: new Set(),    // addresses whose stream dropped
  timeline: [],
  charts: null,
  chartNodes: '',
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function fillBody(table, rows) {
  const body = $(table).tBodies[0];
  body.replaceChildren(...rows);
}

function nodeStatus(id) {
  const view = state.nodes.get(id);
  if (!view) return el('span', { class: 'info' }, '?');
  if (view.reachable === false) return el('span', { class: 'unreachable', title: view.error || '' }, 'unreachable');
  return el('span', { class: 'good' }, 'reachable');
}

function renderCluster() {
  const c = state.cluster;
  if (!c) return;
  $('cluster-id').textContent = c.clusterId ? `cluster ${c.clusterId}` : '';
  const q = c.quorum;
  $('quorum-summary').textContent = `active controller: node ${q.activeController} (controller epoch ${q.controllerEpoch})`
    + (q.epoch >= 0 ? `, Raft leader node ${q.leader} at term ${q.epoch}` : '');
  fillBody('voters', q.voters.map((v) => {
    const view = state.nodes.get(v.id);
    let role = v.role;
    if (view && view.reachable === false && role !== 'leader') role = 'unreachable';
    else if (view && view.raftRole) role = view.raftRole;
    return el('tr', { 'data-voter': v.id }, el('td', {}, v.id), el('td', {}, v.address),
      el('td', { class: `role ${role.replace(/ /g, '-')}` }, role), el('td', {}, nodeStatus(v.id)));
  }));
  fillBody('brokers', c.brokers.map((b) => el('tr', { 'data-broker': b.id },
    el('td', {}, b.id),
    el('td', { class: `state ${b.state.replace(/ /g, '-')}` }, b.state),
    el('td', { class: 'endpoints' }, Object.entries(b.endpoints).map(([k, v]) => `${k}://${v}`).join(' ')),
    el('td', {}, b.rack || '—'),
    el('td', { class: 'led' }, b.partitionsLed),
    el('td', {}, nodeStatus(b.id)))));
  for (const b of c.brokers) {
    if (b.endpoints.http) state.addresses.set(b.id, b.endpoints.http);
  }
  const hwms = highWatermarks();
  const rows = [];
  let under = 0; let leaderless = 0; let count = 0;
  for (const t of c.topics) {
    for (const p of t.partitions) {
      count++;
      const name = `${t.name}-${p.partition}`;
      const flags = [];
      if (p.leaderless) { flags.push('leaderless'); leaderless++; }
      if (p.underReplicated) { flags.push('under-replicated'); under++; }
      rows.push(el('tr', { 'data-partition': name, class: flags.join(' ') },
        el('td', {}, name),
        el('td', { class: 'leader-id' }, p.leader >= 0 ? p.leader : 'none'),
        el('td', { class: 'epoch' }, p.leaderEpoch),
        el('td', {}, p.replicas.join(', ')),
        el('td', { class: 'isr' }, p.isr.join(', ')),
        el('td', {}, hwms.has(name) ? hwms.get(name) : '—'),
        el('td', { class: 'flags' }, flags.join(', '))));
    }
  }
  fillBody('partitions', rows);
  $('topics-summary').textContent = `${c.topics.length} topic(s), ${count} partition(s)`
    + (under ? `, ${under} under-replicated` : '') + (leaderless ? `, ${leaderless} leaderless` : '');
  renderConnection();
}

function highWatermarks() {
  const out = new Map();
  for (const view of state.nodes.values()) {
    for (const [tp, hwm] of Object.entries(view.highWatermarks || {})) out.set(tp, hwm);
  }
  return out;
}

function renderGroups() {
  const hwms = highWatermarks();
  const rows = [];
  for (const view of state.nodes.values()) {
    for (const g of view.groups || []) {
      const offsets = g.offsets.length ? g.offsets : [null];
      for (const o of offsets) {
        const tp = o ? `${o.topic}-${o.partition}` : '—';
        const lag = o && hwms.has(tp) ? Math.max(0, hwms.get(tp) - o.committed) : '—';
        rows.push(el('tr', { 'data-group': g.id }, el('td', {}, g.id), el('td', {}, `node ${view.id}`),
          el('td', {}, g.state), el('td', {}, g.members), el('td', {}, tp),
          el('td', {}, o ? o.committed : '—'), el('td', { class: 'lag' }, lag)));
      }
    }
  }
  fillBody('groups', rows);
}

function renderTimeline() {
  const items = state.timeline.slice().reverse().map((e) => el('li', { class: e.severity, 'data-kind': e.kind },
    el('time', { datetime: new Date(e.timeMs).toISOString() }, new Date(e.timeMs).toISOString().substring(11, 23)),
    e.text));
  $('timeline').replaceChildren(...items);
}

function renderConnection() {
  const parts = [];
  if (state.currentNode !== null) parts.push(`connected to node ${state.currentNode}`);
  else parts.push(`connecting to ${state.current}…`);
  const down = [];
  for (const [id, addr] of state.addresses) {
    const view = state.nodes.get(id);
    if (view && view.reachable) state.unreachable.delete(addr);
    if ((view && view.reachable === false) || state.unreachable.has(addr)) down.push(`node ${id} unreachable`);
  }
  const conn = $('connection');
  conn.textContent = parts.concat(down).join('; ');
  conn.className = state.currentNode !== null && down.length === 0 ? 'good' : 'warn';
}

function renderCharts() {
  const ids = [...state.history.keys()].sort((a, b) => a - b);
  const signature = ids.join(',');
  if (!window.uPlot || ids.length === 0) return;
  if (state.chartNodes !== signature) {
    state.chartNodes = signature;
    $('charts').replaceChildren();
    state.charts = CHARTS.map((spec) => {
      const box = el('div', { class: 'chart' }, el('h3', {}, spec.title));
      $('charts').append(box);
      const series = [{}].concat(ids.map((id, i) => ({ label: `node ${id}`, stroke: COLORS[i % COLORS.length], width: 1.5 })));
      return { spec, plot: new window.uPlot({ width: 280, height: 130, series, scales: { x: { time: true } },
        legend: { show: true, live: false } }, [[]].concat(ids.map(() => [])), box) };
    });
  }
  // One time axis: the connected node's seconds; each node's newest sample at or before each.
  const times = new Set();
  for (const samples of state.history.values()) for (const s of samples) times.add(Math.round(s.timeMs / 1000));
  const xs = [...times].sort((a, b) => a - b).slice(-HISTORY_SECONDS);
  for (const chart of state.charts) {
    const data = [xs];
    for (const id of ids) {
      const bySecond = new Map(state.history.get(id).map((s) => [Math.round(s.timeMs / 1000), s[chart.spec.key]]));
      data.push(xs.map((x) => (bySecond.has(x) ? bySecond.get(x) : null)));
    }
    chart.plot.setData(data);
  }
}

function onNodes(event) {
  for (const view of event.nodes) {
    state.nodes.set(view.id, view);
    if (view.http) state.addresses.set(view.id, view.http);
    if (view.rates && view.rates.timeMs > 0) {
      const samples = state.history.get(view.id) || [];
      if (!samples.length || samples[samples.length - 1].timeMs !== view.rates.timeMs) samples.push(view.rates);
      while (samples.length > HISTORY_SECONDS) samples.shift();
      state.history.set(view.id, samples);
    }
  }
  renderCluster();
  renderGroups();
  renderCharts();
}

let stream = null;

function connect(address) {
  state.current = address;
  state.currentNode = null;
  renderConnection();
  const url = address === location.host ? '/api/events' : `http://${address}/api/events`;
  stream = new EventSource(url);
  stream.addEventListener('hello', (m) => {
    const hello = JSON.parse(m.data);
    state.currentNode = hello.node;
    state.unreachable.delete(address);
    $('timeline-node').textContent = hello.node;
    state.timeline = hello.timeline;
    for (const [id, samples] of Object.entries(hello.history)) {
      state.history.set(Number(id), samples.filter((s) => s.timeMs > 0));
    }
    renderTimeline();
    renderConnection();
  });
  stream.addEventListener('cluster', (m) => { state.cluster = JSON.parse(m.data); renderCluster(); });
  stream.addEventListener('nodes', (m) => onNodes(JSON.parse(m.data)));
  stream.addEventListener('timeline', (m) => {
    state.timeline = state.timeline.concat(JSON.parse(m.data)).slice(-200);
    renderTimeline();
  });
  stream.onerror = () => {
    stream.close();
    state.unreachable.add(address);
    state.currentNode = null;
    const candidates = [...state.addresses.values()].filter((a) => a !== address);
    const next = candidates.find((a) => !state.unreachable.has(a)) || candidates[0] || address;
    if (next !== address) state.unreachable.add(address);
    renderConnection();
    setTimeout(() => connect(next), 1000);
  };
}

connect(location.host);
