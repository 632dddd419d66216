// netsim web: the live view of one sim.  Polls /api/status once a second,
// draws the topology as an SVG graph (force-directed layout, positions kept
// between polls so nothing jumps), and shows /api/node/NODE for the node
// that was clicked (kept in the URL's #fragment).  Members of radio segments
// (medium=radio and medium=wifi) sit at their positions from /api/air, the medium's matrix:
// one edge per pair of members that hear each other, coloured by its loss
// (green clean, red lossy) and as wide as its rate, range circles on request.
'use strict';

const POLL_MS = 1000;
const SVG_NS = 'http://www.w3.org/2000/svg';
const NODE_R = 28;
const EDGE_LEN = 150;

const view = {
  status: null,
  shape: '',            // node/edge ids of the graph last laid out
  pos: new Map(),       // id -> {x, y}
  selected: decodeURIComponent(location.hash.slice(1)) || null,
  detailsSeq: 0,
  air: null,            // /api/air when the sim has radio segments
  radioScale: 1,        // pixels per metre of the radio drawing
};

// ---- small DOM helpers ---------------------------------------------------

function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function s(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// "n1:eth0" -> ["n1", "eth0"]
function endpoint(str) {
  const i = str.indexOf(':');
  return i < 0 ? [str, ''] : [str.slice(0, i), str.slice(i + 1)];
}

const QUALITY_KEYS = ['rate', 'delay', 'jitter', 'loss', 'duplicate', 'reorder'];

// A link's quality as a short label, from whatever the status carries:
// a "quality" object or string, or the attributes directly on the link.
function qualityLabel(link) {
  let q = link.quality;
  if (typeof q === 'string') return q;
  if (!q || typeof q !== 'object') q = link;
  const parts = [];
  for (const k of QUALITY_KEYS) {
    const v = q[k];
    if (v === undefined || v === null || v === '' || v === 0) continue;
    parts.push(k === 'rate' ? String(v) : `${k} ${v}`);
  }
  return parts.join(' · ');
}

// ---- graph model -----------------------------------------------------------

function model(st) {
  const nodes = st.nodes.map((n) => ({id: 'n:' + n.name, kind: 'node', name: n.name,
                                      state: n.state, addr: n.addr}));
  const known = new Set(nodes.map((n) => n.name));
  const edges = [];
  for (const l of st.links || []) {
    const [a, ia] = endpoint(l.a);
    const [b, ib] = endpoint(l.b);
    if (!known.has(a) || !known.has(b)) continue;
    edges.push({id: `l:${l.a}-${l.b}`, from: 'n:' + a, to: 'n:' + b, ifFrom: ia, ifTo: ib,
                state: l.state, label: qualityLabel(l)});
  }
  for (const seg of st.segments || []) {
    if (seg.medium === 'radio' || seg.medium === 'wifi') {
      radioEdges(seg.name, known, edges);
      continue;
    }
    const hub = {id: 's:' + seg.name, kind: 'segment', name: seg.name,
                 label: qualityLabel(seg)};
    nodes.push(hub);
    for (const m of seg.members || []) {
      const [n, ifn] = endpoint(m.member);
      if (!known.has(n)) continue;
      edges.push({id: `m:${seg.name}-${m.member}`, from: hub.id, to: 'n:' + n, ifFrom: '',
                  ifTo: ifn, state: m.state, label: ''});
    }
  }
  return {nodes, edges};
}

// ---- radio segments ----------------------------------------------------------

function airSegment(name) {
  return ((view.air && view.air.segments) || []).find((s) => s.name === name) || null;
}

function pct(p) {
  return p && p.in_range ? `${Math.round(p.loss * 1000) / 10}%` : 'none';
}

function rateText(bps) {
  return bps >= 1e6 ? `${Math.round(bps / 1e5) / 10}mbit` : `${Math.round(bps / 1e3)}kbit`;
}

// One edge per pair of members that hear each other (either way); the worse
// direction's loss is the colour, the lower rate the width.
function radioEdges(name, known, edges) {
  const seg = airSegment(name);
  if (!seg) return;
  const pair = new Map(seg.pairs.map((p) => [`${p.from}>${p.to}`, p]));
  const m = seg.members.filter((n) => known.has(n));
  for (let i = 0; i < m.length; i++) {
    for (let j = i + 1; j < m.length; j++) {
      const ab = pair.get(`${m[i]}>${m[j]}`), ba = pair.get(`${m[j]}>${m[i]}`);
      const live = [ab, ba].filter((p) => p && p.in_range);
      if (!live.length) continue;
      const loss = Math.max(...live.map((p) => p.loss));
      const rate = Math.min(...live.map((p) => p.rate));
      edges.push({id: `r:${name}:${m[i]}-${m[j]}`, kind: 'radio', from: 'n:' + m[i],
                  to: 'n:' + m[j], ifFrom: '', ifTo: '',
                  state: live.length === 2 ? 'up' : 'partial', loss, rate,
                  label: `${pct(ab)} / ${pct(ba)}`,
                  title: `${name}: ${m[i]}→${m[j]} loss ${pct(ab)}` +
                         (ab && ab.in_range ? `, ${rateText(ab.rate)}, SNR ${ab.snr.toFixed(1)} dB` : '') +
                         `; ${m[j]}→${m[i]} loss ${pct(ba)}` +
                         (ba && ba.in_range ? `, ${rateText(ba.rate)}, SNR ${ba.snr.toFixed(1)} dB` : '') +
                         ` (${(ab || ba).distance.toFixed(1)} m)`});
    }
  }
}

// Radio members at their positions (metres → pixels, y up), whatever the
// force layout said; the drawing of all radio segments is about 700 px wide.
function placeRadio() {
  const at = new Map();
  for (const seg of (view.air && view.air.segments) || [])
    for (const [n, p] of Object.entries(seg.positions || {})) at.set(n, p);
  if (!at.size) return;
  const xs = [...at.values()].map((p) => p[0]), ys = [...at.values()].map((p) => p[1]);
  const extent = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys), 1);
  view.radioScale = Math.min(8, 700 / extent);
  const x0 = (Math.max(...xs) + Math.min(...xs)) / 2, y0 = (Math.max(...ys) + Math.min(...ys)) / 2;
  for (const [n, p] of at)
    view.pos.set('n:' + n, {x: (p[0] - x0) * view.radioScale, y: -(p[1] - y0) * view.radioScale});
}

// Quality colour: hue 120 (green) at no loss down to 0 (red) at 50% and more.
function lossColour(loss) {
  return `hsl(${Math.round(120 * Math.max(0, 1 - 2 * loss))}, 70%, 42%)`;
}

// ---- layout: Fruchterman-Reingold with a cooling schedule ----------------

function layout(g) {
  const fresh = g.nodes.filter((n) => !view.pos.has(n.id));
  const firstTime = fresh.length === g.nodes.length;
  const R = Math.max(EDGE_LEN, (g.nodes.length * EDGE_LEN) / (2 * Math.PI));
  fresh.forEach((n, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, fresh.length);
    // Newcomers start next to a placed neighbour when there is one.
    const nb = g.edges.map((e) => (e.from === n.id ? e.to : e.to === n.id ? e.from : null))
      .find((id) => id && view.pos.has(id));
    const c = nb ? view.pos.get(nb) : {x: 0, y: 0};
    const r = nb ? EDGE_LEN / 2 : R;
    view.pos.set(n.id, {x: c.x + r * Math.cos(a) + (i % 3), y: c.y + r * Math.sin(a)});
  });
  const P = g.nodes.map((n) => view.pos.get(n.id));
  const index = new Map(g.nodes.map((n, i) => [n.id, i]));
  const E = g.edges.map((e) => [index.get(e.from), index.get(e.to)]);
  const k = EDGE_LEN;
  const rounds = firstTime ? 500 : 150;
  let temp = firstTime ? k : k / 4;
  for (let it = 0; it < rounds; it++) {
    const D = P.map(() => ({x: 0, y: 0}));
    for (let i = 0; i < P.length; i++) {
      for (let j = i + 1; j < P.length; j++) {
        let dx = P[i].x - P[j].x, dy = P[i].y - P[j].y;
        let d2 = dx * dx + dy * dy;
        if (d2 < 0.01) { dx = 0.1 * (i - j); dy = 0.1; d2 = dx * dx + dy * dy; }
        const f = (k * k) / d2;           // repulsion k^2/d, along the unit vector
        D[i].x += dx * f; D[i].y += dy * f;
        D[j].x -= dx * f; D[j].y -= dy * f;
      }
    }
    for (const [a, b] of E) {
      const dx = P[a].x - P[b].x, dy = P[a].y - P[b].y;
      const d = Math.sqrt(dx * dx + dy * dy) || 0.1;
      const f = d / k;                    // attraction d^2/k
      D[a].x -= dx * f; D[a].y -= dy * f;
      D[b].x += dx * f; D[b].y += dy * f;
    }
    for (let i = 0; i < P.length; i++) {
      D[i].x -= P[i].x * 0.02;            // gentle pull to the centre: no drifting islands
      D[i].y -= P[i].y * 0.02;
      const len = Math.sqrt(D[i].x * D[i].x + D[i].y * D[i].y) || 1;
      const step = Math.min(len, temp);
      P[i].x += (D[i].x / len) * step;
      P[i].y += (D[i].y / len) * step;
    }
    temp = Math.max(temp * 0.985, 0.5);
  }
  if (firstTime) alignWide(P, g);
}

// Turn the drawing so its longest extent is horizontal (screens are wide),
// with the first node of the file on the left: n1 — n2 — n3 reads naturally.
function alignWide(P, g) {
  const n = P.length;
  if (n < 2) return;
  const cx = P.reduce((a, p) => a + p.x, 0) / n, cy = P.reduce((a, p) => a + p.y, 0) / n;
  let sxx = 0, syy = 0, sxy = 0;
  for (const p of P) {
    const x = p.x - cx, y = p.y - cy;
    sxx += x * x; syy += y * y; sxy += x * y;
  }
  const angle = 0.5 * Math.atan2(2 * sxy, sxx - syy);
  const c = Math.cos(-angle), sn = Math.sin(-angle);
  for (const p of P) {
    const x = p.x - cx, y = p.y - cy;
    p.x = x * c - y * sn;
    p.y = x * sn + y * c;
  }
  const first = g.nodes.findIndex((n) => n.kind === 'node');
  if (first >= 0 && P[first].x > 1) for (const p of P) p.x = -p.x;
  if (first >= 0 && P[first].y > 1) for (const p of P) p.y = -p.y;
}

// ---- drawing -----------------------------------------------------------------

function edgeClass(state) {
  if (state === 'up') return 'edge up';
  if (state === 'partial') return 'edge partial';
  return 'edge down';
}

function draw(g) {
  const svg = document.getElementById('graph');
  const edgesG = s('g', {class: 'edges'});
  const labelsG = s('g', {class: 'labels'});
  const nodesG = s('g', {class: 'nodes'});
  const byId = new Map(g.nodes.map((n) => [n.id, n]));

  const ranges = document.getElementById('ranges');
  if (ranges && ranges.checked) {
    for (const seg of (view.air && view.air.segments) || []) {
      if (!seg.range_m) continue;
      for (const n of seg.members) {
        const p = view.pos.get('n:' + n);
        if (p) edgesG.append(s('circle', {class: 'range', cx: p.x, cy: p.y,
                                         r: seg.range_m * view.radioScale}));
      }
    }
  }
  for (const e of g.edges) {
    const A = view.pos.get(e.from), B = view.pos.get(e.to);
    // a link to a stopped node carries nothing, whatever its own state: dashed
    const dead = [e.from, e.to].some((id) => byId.get(id).kind !== 'segment' &&
                                             byId.get(id).state !== 'running');
    const grp = s('g', {class: edgeClass(e.state) + (e.kind === 'radio' ? ' radio' : '') +
                        (dead ? ' stopped' : ''), 'data-edge': e.id});
    const line = s('line', {x1: A.x, y1: A.y, x2: B.x, y2: B.y});
    if (e.kind === 'radio') {  // presentation attributes: the CSP allows no inline style
      line.setAttribute('stroke', lossColour(e.loss));
      line.setAttribute('stroke-width', (1.5 + 4.5 * Math.min(1, e.rate / 54e6)).toFixed(1));
    }
    grp.append(line);
    const title = s('title', {}, (e.title || `${byId.get(e.from).name}${e.ifFrom ? ':' + e.ifFrom : ''}` +
                    ` — ${byId.get(e.to).name}${e.ifTo ? ':' + e.ifTo : ''}: ${e.state}`) +
                    (dead ? ' (a node on it is stopped)' : ''));
    grp.append(title);
    edgesG.append(grp);
    const dx = B.x - A.x, dy = B.y - A.y;
    const d = Math.sqrt(dx * dx + dy * dy) || 1;
    const ux = dx / d, uy = dy / d;
    // Interface names just outside each end, set off to one side of the line;
    // the quality label goes in the middle on the other side.
    const ends = [[A, e.ifFrom, 1, byId.get(e.from)], [B, e.ifTo, -1, byId.get(e.to)]];
    for (const [P, name, dir, n] of ends) {
      if (!name) continue;
      const off = (n.kind === 'segment' ? 16 : NODE_R) + 20;
      labelsG.append(s('text', {class: 'ifname', x: P.x + dir * ux * off - uy * 9,
                                y: P.y + dir * uy * off + ux * 9 + 4}, name));
    }
    const mx = (A.x + B.x) / 2, my = (A.y + B.y) / 2;
    let mid = e.label;
    if (e.state !== 'up') mid = mid ? `${mid} · ${e.state}` : e.state;
    if (mid && d > 2 * NODE_R + 20)
      labelsG.append(s('text', {class: 'quality ' + (e.state === 'up' ? '' : 'bad'),
                                x: mx + uy * 12, y: my - ux * 12 + 4}, mid));
  }

  for (const n of g.nodes) {
    const p = view.pos.get(n.id);
    if (n.kind === 'segment') {
      const grp = s('g', {class: 'hub', transform: `translate(${p.x},${p.y})`});
      grp.append(s('rect', {x: -14, y: -14, width: 28, height: 28, rx: 5,
                            transform: 'rotate(45)'}));
      grp.append(s('text', {class: 'name', y: 34}, n.name));
      if (n.label) grp.append(s('text', {class: 'sub', y: 49}, n.label));
      grp.append(s('title', {}, `segment ${n.name} (a bridge all members attach to)`));
      nodesG.append(grp);
      continue;
    }
    const cls = `node ${n.state === 'running' ? 'running' : 'stopped'}` +
                (view.selected === n.name ? ' selected' : '');
    const grp = s('g', {class: cls, transform: `translate(${p.x},${p.y})`, tabindex: 0,
                        role: 'button', 'data-node': n.name});
    grp.append(s('circle', {r: NODE_R}));
    grp.append(s('text', {class: 'name', y: 5}, n.name));
    grp.append(s('text', subLabelPlace(n.id, g),
                 (n.addr || '').replace(/\/(32|128)$/, '')));
    grp.append(s('title', {}, `${n.name}: ${n.state} — click for addresses and routes`));
    grp.addEventListener('click', () => select(n.name));
    grp.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') select(n.name);
    });
    nodesG.append(grp);
  }

  svg.replaceChildren(edgesG, labelsG, nodesG);
  fit(svg, g);
}

// Where a node's address goes: the side with the most room between its
// links (below when free), so it never sits on a link or an interface name.
function subLabelPlace(id, g) {
  const p = view.pos.get(id);
  const angles = [];
  for (const e of g.edges) {
    const other = e.from === id ? e.to : e.to === id ? e.from : null;
    if (!other) continue;
    const q = view.pos.get(other);
    angles.push(Math.atan2(q.y - p.y, q.x - p.x));
  }
  const candidates = [90, -90, 0, 180, 45, 135, -45, -135].map((d) => (d * Math.PI) / 180);
  const gapAt = (c) => Math.min(Math.PI, ...angles.map(
    (a) => Math.abs(Math.atan2(Math.sin(c - a), Math.cos(c - a)))));
  let best = candidates[0], bestGap = gapAt(best);
  // Below whenever no link is within 60 degrees of straight down; else the roomiest side.
  if (bestGap < Math.PI / 3) {
    for (const c of candidates) {
      const gap = gapAt(c);
      if (gap > bestGap + 0.2) { best = c; bestGap = gap; }
    }
  }
  const cx = Math.cos(best), cy = Math.sin(best);
  const r = NODE_R + 8;
  const anchor = cx > 0.3 ? 'start' : cx < -0.3 ? 'end' : 'middle';
  // Baseline: text hangs below when placed under the node, sits above when over it.
  const dy = cy > 0.3 ? 11 : cy < -0.3 ? -2 : 4;
  return {class: 'sub', x: (cx * r).toFixed(1), y: (cy * r + dy).toFixed(1),
          'text-anchor': anchor};
}

// viewBox around the drawing: 1:1 when it fits the pane, scaled down when not.
function fit(svg, g) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const n of g.nodes) {
    const p = view.pos.get(n.id);
    x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y);
    x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y);
  }
  if (!isFinite(x0)) { x0 = y0 = x1 = y1 = 0; }
  // Room for the labels beside the outermost nodes (addresses can sit left or right).
  const padX = 130, padY = 80;
  const W = svg.clientWidth || 800, H = svg.clientHeight || 600;
  const w = Math.max(x1 - x0 + 2 * padX, W), hgt = Math.max(y1 - y0 + 2 * padY, H);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  svg.setAttribute('viewBox', `${cx - w / 2} ${cy - hgt / 2} ${w} ${hgt}`);
}

// ---- status ------------------------------------------------------------------

function render(st) {
  view.status = st;
  document.getElementById('sim-name').textContent = st.sim;
  document.title = `netsim ${st.sim}`;
  const running = st.nodes.filter((n) => n.state === 'running').length;
  const links = st.links || [];
  const up = links.filter((l) => l.state === 'up').length;
  const segs = (st.segments || []).length;
  document.getElementById('summary').textContent =
    `${running}/${st.nodes.length} nodes running · ${up}/${links.length} links up` +
    (segs ? ` · ${segs} segment${segs > 1 ? 's' : ''}` : '');
  // can the host keep up? (sim/fidelity.h): an overload is not a routing bug
  const fid = document.getElementById('fidelity');
  const f = st.fidelity;
  fid.hidden = !f;
  if (f) {
    fid.textContent = f.status === 'ok' ? 'fidelity ok' : `fidelity degraded: ${f.reasons}`;
    fid.className = f.status === 'ok' ? 'fidelity' : 'fidelity degraded';
  }

  const g = model(st);
  const shape = g.nodes.map((n) => n.id).join(',') + '|' + g.edges.map((e) => e.id).join(',');
  if (shape !== view.shape) {
    for (const id of [...view.pos.keys()])
      if (!g.nodes.some((n) => n.id === id)) view.pos.delete(id);
    layout(g);
    view.shape = shape;
  }
  placeRadio();
  draw(g);
}

function setConnection(ok, message) {
  const c = document.getElementById('conn');
  c.className = 'conn ' + (ok ? 'ok' : 'bad');
  c.textContent = ok ? `live · ${new Date().toLocaleTimeString()}` : 'disconnected';
  const b = document.getElementById('banner');
  b.hidden = ok;
  if (!ok) b.textContent = message;
  document.body.classList.toggle('stale', !ok);
}

async function poll() {
  try {
    const r = await fetch('/api/status', {cache: 'no-store'});
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    view.air = null;
    if (j.medium && j.medium.state === 'running') {
      const a = await fetch('/api/air', {cache: 'no-store'});
      if (a.ok) view.air = await a.json();
    }
    render(j);
    setConnection(true);
    if (view.selected) await loadDetails(view.selected, false);
  } catch (e) {
    setConnection(false, e instanceof TypeError ? 'netsim web is not answering' : e.message);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// ---- node details --------------------------------------------------------------

function select(name) {
  view.selected = name;
  history.replaceState(null, '', '#' + encodeURIComponent(name));
  if (view.status) draw(model(view.status));
  loadDetails(name, true);
}

async function loadDetails(name, showLoading) {
  const pane = document.getElementById('details');
  const seq = ++view.detailsSeq;
  if (showLoading) pane.replaceChildren(h('h2', {}, name), h('p', {class: 'hint'}, 'loading…'));
  let j;
  try {
    const r = await fetch('/api/node/' + encodeURIComponent(name), {cache: 'no-store'});
    j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
  } catch (e) {
    if (seq === view.detailsSeq)
      pane.replaceChildren(h('h2', {}, name), h('p', {class: 'error'}, e.message));
    return;
  }
  if (seq !== view.detailsSeq) return;   // a newer click won
  const scroll = pane.scrollTop;
  pane.replaceChildren(...detailsView(j));
  pane.scrollTop = scroll;
}

function table(head, rows, empty) {
  if (!rows.length) return h('p', {class: 'hint'}, empty);
  return h('table', {},
    h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}

// The neighbour a next hop on a point-to-point link is: the other end of the
// link that leaves NODE by DEV ("n2:eth0"), or null (a segment: several).
function peerOf(node, dev) {
  const me = `${node}:${dev}`;
  const l = ((view.status && view.status.links) || []).find((x) => x.a === me || x.b === me);
  return l ? (l.a === me ? l.b : l.a) : null;
}

function nextHop(node, r) {
  const via = r.gateway || (r.via && r.via.host) || '';
  const peer = via.startsWith('fe80:') && r.dev ? peerOf(node, r.dev) : null;
  return peer ? h('span', {title: via}, peer, ' ', h('span', {class: 'muted'}, via)) : via;
}

function routeRows(routes, node) {
  return (routes || [])
    .filter((r) => !(r.dst || '').startsWith('fe80:') && r.type !== 'multicast')
    // An IPv4 route may have an IPv6 next hop (babel does that): "via".
    // unreachable/blackhole/prohibit routes lead nowhere: say so, not as a route
    .map((r) => [r.type && r.type !== 'unicast' ?
                   h('span', {class: 'bad'}, `${r.dst || ''} (${r.type})`) : r.dst || '',
                 nextHop(node, r), r.dev || '', r.protocol || '']);
}

function detailsView(n) {
  const out = [];
  out.push(h('h2', {}, n.name, ' ', h('span', {class: 'pill ' + n.state}, n.state)));
  out.push(h('dl', {},
    h('dt', {}, 'address'), h('dd', {}, n.addr || '—'),
    h('dt', {}, 'IPv6'), h('dd', {}, n.addr6 || '—'),
    h('dt', {}, 'PID 1 on host'), h('dd', {}, n.pid ? String(n.pid) : '—'),
    h('dt', {}, 'rootfs'), h('dd', {class: 'wrap'}, n.rootfs || '—')));
  if (n.error) out.push(h('p', {class: 'error'}, n.error));

  // Interfaces: host-scope addresses (127.0.0.1, ::1) left out as noise.
  out.push(h('h3', {}, 'Interfaces'));
  const ifRows = (n.addresses || []).map((i) => {
    const state = (i.operstate || '').toLowerCase();
    const up = (i.flags || []).includes('UP');
    return [
      h('span', {}, h('b', {}, i.ifname), h('br'),
        h('span', {class: 'muted ' + (up ? '' : 'bad')}, up ? state : 'down')),
      h('span', {class: 'addrs'},
        (i.addr_info || []).filter((a) => a.scope !== 'host')
          .map((a) => h('span', {}, `${a.local}/${a.prefixlen}`)),
        i.link_type === 'loopback' ? null : h('span', {class: 'muted'}, i.address || '')),
    ];
  });
  out.push(table(['name', 'addresses'], ifRows, 'no interfaces'));

  out.push(h('h3', {}, 'IPv4 routes'));
  const stopped = n.state !== 'running';
  out.push(table(['destination', 'via', 'dev', 'proto'], routeRows(n.routes, n.name),
                 stopped ? 'none: the node is stopped' :
                   'no IPv4 routes (yet: babel needs a few seconds)'));
  out.push(h('h3', {}, 'IPv6 routes'));
  out.push(table(['destination', 'via', 'dev', 'proto'], routeRows(n.routes6, n.name),
                 stopped ? 'none: the node is stopped' : 'no IPv6 routes'));
  return out;
}

window.addEventListener('hashchange', () => {
  const name = decodeURIComponent(location.hash.slice(1));
  if (name && name !== view.selected) select(name);
});
window.addEventListener('resize', () => { if (view.status) draw(model(view.status)); });
document.getElementById('ranges').addEventListener('change', () => {
  if (view.status) render(view.status);
});

if (view.selected) loadDetails(view.selected, true);
poll();
