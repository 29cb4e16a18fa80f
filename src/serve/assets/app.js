// The live page: a snapshot of the run's state, then its changes as server-sent events
// (src/serve/state.ts says what each holds). Everything shown is built with textContent,
// never HTML from the run: file names are data.
import uPlot from '/assets/uPlot.esm.js';

const PAGE = 50;
const $ = (id) => document.getElementById(id);
const el = (tag, { dataset, ...props } = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
};

const view = { run: undefined, counts: undefined, origin: undefined, width: 10, buckets: [], train: [], stride: 1, validation: [], offset: 0, filter: 'all', total: 0, unseen: 0, failures: new Map() };

// --- header -----------------------------------------------------------------------------
function showRun(run, counts) {
  const refolder = view.run !== undefined && view.run.folder !== run.folder;
  view.run = run;
  // Names are shown below the common folder: when it moves up, the rows shown are redrawn.
  if (refolder) loadPage();
  view.counts = counts;
  $('pipeline').textContent = run.pipeline ?? 'unetflow';
  document.title = `${run.pipeline ?? 'unetflow'}: ${run.status}`;
  const badge = $('status');
  badge.dataset.status = run.status;
  badge.textContent = run.status;
  const parts = [];
  if (run.file) parts.push(run.file);
  if (run.started) parts.push(`started ${new Date(run.started).toLocaleString()}`);
  if (run.watch) parts.push('watching for files');
  if (run.folder) parts.push(`files in ${run.folder}`);
  if (run.backends.length) parts.push(`backend ${run.backends.join('; ')}`);
  if (run.stats) parts.push(`ended after ${run.stats.seconds.toFixed(1)} s`);
  $('run-line').textContent = parts.join(' · ');
  showCounts(counts);
  const message = $('message');
  message.hidden = !run.message;
  message.textContent = run.message ? `${run.status === 'failed' ? 'The run ended on an error: ' : ''}${run.message}` : '';
}

function showCounts(counts) {
  view.counts = counts;
  $('count-done').textContent = counts.done.toLocaleString();
  $('count-failed').textContent = counts.failed.toLocaleString();
  $('count-same-box').hidden = counts.sameContent === 0;
  $('count-same').textContent = counts.sameContent.toLocaleString();
  const total = view.run?.total;
  $('count-total-box').hidden = total === undefined;
  if (total !== undefined) $('count-total').textContent = total.toLocaleString();
}

// --- gallery ----------------------------------------------------------------------------
function galleryItem(item) {
  if (!item.link) return undefined;
  const img = el('img', { src: `/thumbs/${item.link}`, alt: `${item.output} of ${item.file}`, loading: 'lazy', decoding: 'async' });
  const a = el('a', { href: `/files/${item.link}`, target: '_blank', rel: 'noopener' }, img);
  return el('li', { className: 'thumb', dataset: { seq: item.seq } }, el('figure', {}, a, el('figcaption', { textContent: `${baseName(item.file)} (${item.output})`, title: item.file })));
}

function showGallery(items) {
  $('gallery').replaceChildren(...items.map(galleryItem).filter(Boolean));
  $('gallery-empty').hidden = $('gallery').children.length > 0;
}

function addToGallery(item) {
  const li = galleryItem(item);
  if (!li) return;
  const list = $('gallery');
  list.prepend(li);
  while (list.children.length > 12) list.lastElementChild.remove();
  $('gallery-empty').hidden = true;
}

// --- charts -----------------------------------------------------------------------------
const charts = {};
const observed = new Set();
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function chart(id, series, data, { time = false, y2 } = {}) {
  const box = $(id);
  const axis = { stroke: css('--fg'), grid: { stroke: css('--grid') }, ticks: { stroke: css('--grid') } };
  const opts = {
    width: Math.max(240, box.clientWidth || 480),
    height: 220,
    scales: { x: { time }, ...(y2 ? { y2: { auto: true } } : {}) },
    axes: [axis, { ...axis }, ...(y2 ? [{ ...axis, scale: 'y2', side: 1, grid: { show: false } }] : [])],
    series: [{ label: time ? 'time' : 'step' }, ...series],
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
  };
  if (!charts[id]) {
    charts[id] = new uPlot(opts, data, box);
    if (!observed.has(id)) {
      observed.add(id);
      new ResizeObserver(() => charts[id]?.setSize({ width: Math.max(240, box.clientWidth), height: 220 })).observe(box);
    }
  } else charts[id].setData(data);
}

function drawSpeed() {
  const b = view.buckets;
  $('speed-empty').hidden = b.length > 0;
  if (!b.length || view.origin === undefined) return;
  // Buckets with no file are absent: fill them, throughput 0 and no latency.
  const xs = [], rate = [], mean = [], max = [];
  const last = b.at(-1).t;
  for (let i = 0, t = b[0].t; t <= last; t += view.width) {
    const bucket = b[i]?.t === t ? b[i++] : undefined;
    xs.push(view.origin / 1000 + t);
    rate.push(bucket ? ((bucket.done + bucket.failed) * 60) / view.width : 0);
    mean.push(bucket?.done ? bucket.seconds / bucket.done : null);
    max.push(bucket?.done ? bucket.maxSeconds : null);
  }
  // One bucket more, empty: a single point would give uPlot no span to draw.
  xs.push(view.origin / 1000 + last + view.width);
  rate.push(null);
  mean.push(null);
  max.push(null);
  chart('chart-throughput', [{ label: 'files/min', stroke: css('--accent'), width: 2 }], [xs, rate], { time: true });
  chart('chart-latency', [{ label: 'mean s', stroke: css('--accent'), width: 2, spanGaps: false }, { label: 'max s', stroke: css('--warn'), dash: [4, 4] }], [xs, mean, max], { time: true });
}

function addBucket(delta) {
  if (delta.resized || delta.width !== view.width) {
    // The server merged its buckets; merge ours alike.
    const merged = [];
    for (const b of view.buckets) {
      const t = Math.floor(b.t / delta.width) * delta.width;
      const m = merged.at(-1);
      if (m && m.t === t) Object.assign(m, { done: m.done + b.done, failed: m.failed + b.failed, seconds: m.seconds + b.seconds, maxSeconds: Math.max(m.maxSeconds, b.maxSeconds) });
      else merged.push({ ...b, t });
    }
    view.buckets = merged;
    view.width = delta.width;
  }
  view.origin = delta.origin;
  const i = view.buckets.findIndex((b) => b.t === delta.bucket.t);
  if (i >= 0) view.buckets[i] = delta.bucket;
  else {
    view.buckets.push(delta.bucket);
    view.buckets.sort((a, b) => a.t - b.t);
  }
  scheduleDraw();
}

function drawTraining() {
  const p = view.train;
  const v = view.validation;
  $('training').hidden = p.length === 0 && v.length === 0;
  if (p.length) {
    chart(
      'chart-loss',
      [
        { label: 'loss', stroke: css('--accent'), width: 2 },
        { label: 'learning rate', stroke: css('--warn'), scale: 'y2', dash: [4, 4] },
      ],
      [p.map((x) => x.step), p.map((x) => x.loss), p.map((x) => x.learningRate)],
      { y2: true },
    );
    const last = p.at(-1);
    $('train-last').textContent = `step ${last.step}: loss ${last.loss.toFixed(4)}, learning rate ${last.learningRate.toPrecision(3)}${v.length ? `; last validation (step ${v.at(-1).step}): pixel error ${v.at(-1).pixelError.toFixed(4)}, IoU ${v.at(-1).iou.toFixed(4)}` : ''}`;
  }
  $('validation-figure').hidden = v.length === 0;
  if (v.length) {
    const series = [{ label: 'pixel error', stroke: css('--warn'), width: 2 }, { label: 'IoU', stroke: css('--accent'), width: 2 }];
    const data = [v.map((x) => x.step), v.map((x) => x.pixelError), v.map((x) => x.iou)];
    if (v.some((x) => x.objectF1 !== undefined)) {
      series.push({ label: 'object F1', stroke: css('--ok'), width: 2 });
      data.push(v.map((x) => x.objectF1 ?? null));
    }
    chart('chart-validation', series, data);
  }
}

// Many events a second must not mean many redraws: charts redraw at most once a frame.
let drawPending = false;
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    drawSpeed();
    drawTraining();
  });
}

// --- failures ---------------------------------------------------------------------------
function failureItem(row) {
  const details = el('details', {}, el('summary', { textContent: 'error report' }));
  if (row.reportLink) {
    details.addEventListener(
      'toggle',
      async () => {
        const pre = el('pre', { textContent: 'loading…' });
        details.append(pre);
        try {
          const response = await fetch(`/files/${row.reportLink}`);
          pre.textContent = response.ok ? JSON.stringify(await response.json(), null, 2) : `no report (${response.status}): it is removed when the file later succeeds`;
        } catch (error) {
          pre.textContent = `could not load the report: ${error}`;
        }
      },
      { once: true },
    );
  } else details.append(el('p', { className: 'muted', textContent: 'no report file (the run has no output folder)' }));
  return el(
    'li',
    { dataset: { seq: row.seq } },
    el('strong', { textContent: shortName(row.file), title: row.file }),
    row.step ? el('span', { className: 'muted', textContent: ` at ${row.step}` }) : undefined,
    el('p', { className: 'error', textContent: row.message ?? 'failed' }),
    details,
  );
}

function showFailures() {
  const list = $('failures');
  const rows = [...view.failures.values()].sort((a, b) => b.seq - a.seq).slice(0, 20);
  list.replaceChildren(...rows.map(failureItem));
  $('failures-empty').hidden = rows.length > 0;
}

function noteFailure(row) {
  for (const [seq, r] of view.failures) if (r.file === row.file) view.failures.delete(seq);
  if (row.status === 'failed') view.failures.set(row.seq, row);
  while (view.failures.size > 20) view.failures.delete(Math.min(...view.failures.keys()));
}

// --- file table -------------------------------------------------------------------------
function metricsText(m) {
  if (!m) return '';
  return `IoU ${m.iou.toFixed(3)}, pixel error ${m.pixelError.toFixed(3)}, Rand ${m.randError.toFixed(3)}`;
}

function rowElement(row) {
  const outputs = el('td', { className: 'outputs' });
  for (const [name, link] of Object.entries(row.links)) outputs.append(el('a', { href: `/files/${link}`, target: '_blank', rel: 'noopener', textContent: name }), ' ');
  if (row.reportLink) outputs.append(el('a', { href: `/files/${row.reportLink}`, target: '_blank', rel: 'noopener', textContent: 'error report' }));
  const status = el('td', {}, el('span', { className: 'badge', dataset: { status: row.status }, textContent: row.status }));
  if (row.message) status.append(el('div', { className: row.status === 'failed' ? 'error small' : 'muted small', textContent: row.message }));
  if (row.worker) status.append(el('div', { className: 'muted small', textContent: `worker ${row.worker}` }));
  return el(
    'tr',
    { dataset: { seq: row.seq, status: row.status, file: row.file } },
    el('th', { scope: 'row', textContent: shortName(row.file), title: row.file }),
    status,
    el('td', { className: 'num', textContent: row.seconds === undefined ? '–' : row.seconds.toFixed(2) }),
    el('td', { className: 'num', textContent: row.objects === undefined ? '–' : String(row.objects) }),
    el('td', { textContent: metricsText(row.metrics) }),
    outputs,
  );
}

function showRows(rows, total) {
  view.total = total;
  $('rows').replaceChildren(...rows.map(rowElement));
  if (rows.length === 0) $('rows').append(el('tr', {}, el('td', { colSpan: 6, className: 'muted', textContent: view.filter === 'failed' ? 'No failed file.' : 'No file yet.' })));
  showRange(rows.length);
}

function showRange(shown) {
  const from = shown ? view.offset + 1 : 0;
  $('range').textContent = `${from.toLocaleString()}–${(view.offset + shown).toLocaleString()} of ${view.total.toLocaleString()}`;
  $('newer').disabled = view.offset === 0;
  $('older').disabled = view.offset + shown >= view.total;
  const button = $('to-newest');
  button.hidden = view.unseen === 0;
  button.textContent = `${view.unseen.toLocaleString()} newer file${view.unseen === 1 ? '' : 's'}: show`;
}

/** A live row: shown at once on the first page of all files; elsewhere counted until asked for. */
function liveRow(row, counts) {
  const tbody = $('rows');
  const old = [...tbody.children].find((tr) => tr.dataset.file === row.file);
  if (view.filter === 'all' && view.offset === 0) {
    old?.remove();
    if (tbody.querySelector('td[colspan]')) tbody.replaceChildren();
    tbody.prepend(rowElement(row));
    while (tbody.children.length > PAGE) tbody.lastElementChild.remove();
    view.total = counts.rows;
    showRange(tbody.children.length);
  } else if (view.filter === 'failed' && view.offset === 0 && (row.status === 'failed' || old)) {
    // A failed file shows at the top; one that failed before and is now done leaves the list.
    old?.remove();
    if (row.status === 'failed') tbody.prepend(rowElement(row));
    view.total += (row.status === 'failed' ? 1 : 0) - (old ? 1 : 0);
    showRange(tbody.children.length);
  } else {
    view.unseen++;
    showRange(tbody.children.length);
  }
}

async function loadPage() {
  const response = await fetch(`/api/files?offset=${view.offset}&limit=${PAGE}&status=${view.filter}`);
  if (!response.ok) return;
  const { rows, total } = await response.json();
  view.unseen = 0;
  showRows(rows, total);
}

$('newer').addEventListener('click', () => {
  view.offset = Math.max(0, view.offset - PAGE);
  loadPage();
});
$('older').addEventListener('click', () => {
  view.offset += PAGE;
  loadPage();
});
$('to-newest').addEventListener('click', () => {
  view.offset = 0;
  loadPage();
  $('files').focus();
});
$('filter').addEventListener('change', (e) => {
  view.filter = e.target.value;
  view.offset = 0;
  loadPage();
});

// --- messages ---------------------------------------------------------------------------
function logItem(line) {
  return el('li', { className: line.level }, el('time', { textContent: new Date(line.time).toLocaleTimeString() }), ' ', line.level === 'warn' ? el('strong', { textContent: 'warning: ' }) : undefined, line.message);
}

function addLog(line) {
  const list = $('logs');
  list.prepend(logItem(line));
  while (list.children.length > 100) list.lastElementChild.remove();
}

// --- the event stream -------------------------------------------------------------------
function connect() {
  const source = new EventSource('/events');
  const on = (name, handle) => source.addEventListener(name, (e) => handle(JSON.parse(e.data)));
  source.addEventListener('open', () => {
    $('connection').textContent = 'live';
    $('connection').dataset.state = 'live';
  });
  source.addEventListener('error', () => {
    const ended = view.run && (view.run.status === 'finished' || view.run.status === 'failed');
    $('connection').textContent = ended ? 'the run has ended and its server has gone: this is its last state' : 'connection lost: reconnecting…';
    $('connection').dataset.state = 'lost';
  });
  on('snapshot', (s) => {
    showRun(s.run, s.counts);
    showGallery(s.gallery);
    view.origin = s.time.origin;
    view.width = s.time.width;
    view.buckets = s.time.buckets;
    view.train = s.train.points;
    view.stride = s.train.stride;
    view.validation = s.validation;
    $('logs').replaceChildren(...s.logs.slice().reverse().map(logItem));
    view.failures.clear();
    for (const row of s.rows) if (row.status === 'failed') view.failures.set(row.seq, row);
    showFailures();
    if (view.filter === 'all' && view.offset === 0) {
      view.unseen = 0;
      showRows(s.rows, s.counts.rows);
    } else loadPage();
    if (view.failures.size < Math.min(20, s.counts.failed)) loadFailures();
    scheduleDraw();
  });
  on('run', (d) => showRun(d.run, d.counts));
  on('file', (d) => {
    showCounts(d.counts);
    liveRow(d.row, d.counts);
    if (d.gallery) addToGallery(d.gallery);
    noteFailure(d.row);
    showFailures();
  });
  on('time', addBucket);
  on('train', (d) => {
    view.train.push(d.point);
    if (d.stride > view.stride) {
      view.train = view.train.filter((_, i) => i % 2 === 0);
      view.stride = d.stride;
    }
    scheduleDraw();
  });
  on('validation', (d) => {
    view.validation.push(d.point);
    scheduleDraw();
  });
  on('log', (d) => addLog(d.line));
  on('dropped', (d) => {
    const notice = $('dropped');
    notice.hidden = false;
    notice.textContent = `This page fell behind the run: ${d.total.toLocaleString()} update${d.total === 1 ? ' was' : 's were'} dropped so as not to slow it down, and the view was refreshed from the run's current state.`;
  });
}

/** Failures beyond the first page of the table: the snapshot holds only that page. */
async function loadFailures() {
  const response = await fetch(`/api/files?offset=0&limit=20&status=failed`);
  if (!response.ok) return;
  for (const row of (await response.json()).rows) view.failures.set(row.seq, row);
  showFailures();
}

/** A file's name below the folder all the run's files share (the full path is its tooltip). */
function shortName(path) {
  const folder = view.run?.folder;
  return folder && path.startsWith(folder) ? path.slice(folder.length) : path;
}

function baseName(path) {
  return path.split(/[\\/]/).pop();
}

matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  for (const id of Object.keys(charts)) {
    charts[id].destroy();
    $(id).replaceChildren();
    delete charts[id];
  }
  scheduleDraw();
});

connect();
