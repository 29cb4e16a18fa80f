/// <reference lib="dom" />
/**
 * The job's live views, drawn from its events as the results page draws a run: the events
 * are folded by the live page's own state (src/serve/state.ts: rows, counts, gallery,
 * logs), so both pages show a run the same way. Outputs are files of the output folder,
 * shown through object URLs instead of the results page's server links.
 */
import type { RunEvent } from '../../events.js';
import { RunState, type Delta, type FileRow, type RunInfo } from '../../serve/state.js';
import { backendLine } from '../../model/engines/report.js';
import { $, baseName, el } from './dom.js';
import { outputFile } from './folders.js';

const GALLERY = 12;
const FAILURES = 20;

/** The CLI's stderr line for a failed file (src/cli/render.ts), so that the page and a terminal say the same. */
export function failedLine(e: Extract<RunEvent, { type: 'file-failed' }>): string {
  return `FAILED  ${e.message}${e.failures ? ` (and ${e.failures - 1} more)` : ''}${e.report ? ` (report: ${e.report})` : ''}`;
}

/** The CLI's backend line (src/cli/render.ts), plus a plain word when the adapter is a CPU posing as a GPU. */
export function engineLine(e: Extract<RunEvent, { type: 'backend' }>): string {
  const line = `${e.step}: backend ${backendLine(e)}${e.skipped.length ? `; skipped ${e.skipped.join(', ')}` : ''}`;
  return e.adapter?.software ? `${line}. A software adapter: its speed is a CPU's, not a GPU's.` : line;
}

export class JobView {
  private state = new RunState({ gallery: GALLERY });
  private output?: FileSystemDirectoryHandle;
  private waiting: string[] = [];
  private readonly urls = new Set<string>();
  private readonly failures = new Map<number, FileRow>();
  /** Rows by file, in the order shown (newest first, waiting files last). */
  private readonly rows = new Map<string, HTMLTableRowElement>();
  total?: number;
  /** The job's events as they came (the last 10,000): what a test or a benchmark compares with the CLI's `--json`. */
  readonly events: RunEvent[] = [];

  /** A new job: clears the views; `inputs` are the files the job will take, shown as waiting. */
  reset(output: FileSystemDirectoryHandle | undefined, inputs: string[]): void {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls.clear();
    this.state = new RunState({ gallery: GALLERY });
    this.output = output;
    this.waiting = inputs;
    this.failures.clear();
    this.rows.clear();
    this.total = undefined;
    this.events.length = 0;
    $('rows').replaceChildren();
    for (const file of inputs) this.putRow(file, this.waitingRow(file), false);
    if (inputs.length === 0) $('rows').append(el('tr', {}, el('td', { colSpan: 6, className: 'muted', textContent: 'No file yet.' })));
    $('gallery').replaceChildren();
    $('gallery-empty').hidden = false;
    $('failures').replaceChildren();
    $('failures-empty').hidden = false;
    $('logs').replaceChildren();
    $('message').hidden = true;
    $('engine-line').textContent = '';
    this.showCounts();
  }

  /** One event of the job. */
  event(e: RunEvent): void {
    this.events.push(e);
    if (this.events.length > 10_000) this.events.shift();
    if (e.type === 'backend') {
      $('engine-line').textContent = engineLine(e);
      $('engine-line').dataset.software = String(e.adapter?.software ?? false);
    }
    if (e.type === 'started') this.total = e.total;
    if (e.type === 'file-failed') this.log('failed', failedLine(e));
    for (const delta of this.state.apply(e)) this.delta(delta);
  }

  private delta(d: Delta): void {
    switch (d.kind) {
      case 'run':
        return this.showRun(d.run);
      case 'file':
        this.showRow(d.row);
        if (d.gallery) void this.addToGallery(d.gallery.file, d.gallery.output, d.gallery.path);
        for (const [seq, r] of this.failures) if (r.file === d.row.file) this.failures.delete(seq);
        if (d.row.status === 'failed') this.failures.set(d.row.seq, d.row);
        while (this.failures.size > FAILURES) this.failures.delete(Math.min(...this.failures.keys()));
        this.showFailures();
        return this.showCounts();
      case 'log':
        return this.log(d.line.level, d.line.message);
      default:
        return;
    }
  }

  private showRun(run: RunInfo): void {
    $('pipeline').textContent = run.pipeline ?? 'unetflow';
    const badge = $('status');
    badge.dataset.status = run.status;
    badge.textContent = run.status;
    document.title = `unetflow: ${run.pipeline ?? ''} ${run.status}`;
    const message = $('message');
    message.hidden = !run.message;
    message.textContent = run.message ? `The job ended on an error: ${run.message}` : '';
    this.showCounts(run);
  }

  private showCounts(run: RunInfo = this.state.run): void {
    const { done, failed } = this.state.snapshot().counts;
    const total = this.total ?? (this.waiting.length || undefined);
    $('count-done').textContent = done.toLocaleString();
    $('count-failed').textContent = failed.toLocaleString();
    $('count-total').textContent = total === undefined ? '–' : total.toLocaleString();
    const bar = $<HTMLProgressElement>('overall');
    const text = $('overall-text');
    if (total) {
      bar.max = total;
      bar.value = done + failed;
    } else bar.removeAttribute('value');
    const ended = run.status === 'finished' || run.status === 'failed';
    if (run.status === 'starting' && done + failed === 0) text.textContent = 'not started';
    else text.textContent = `${(done + failed).toLocaleString()}${total ? ` of ${total.toLocaleString()}` : ''} files${failed ? `, ${failed} failed` : ''}${ended ? ` — ${run.status}${run.stats ? ` after ${run.stats.seconds.toFixed(1)} s` : ''}` : ''}`;
    if (ended) bar.value = bar.max;
  }

  /** The file the job is on: the first waiting one is shown as working. */
  private markWorking(): void {
    const next = this.waiting[0];
    const tr = next ? this.rows.get(next) : undefined;
    const badge = tr?.querySelector('.badge') as HTMLElement | null;
    if (tr && badge && this.state.run.status === 'running') {
      tr.dataset.status = 'working';
      badge.dataset.status = 'working';
      badge.textContent = 'working';
    }
  }

  started(): void {
    this.markWorking();
  }

  private waitingRow(file: string): HTMLTableRowElement {
    return el(
      'tr',
      { dataset: { status: 'waiting', file } },
      el('th', { scope: 'row', textContent: file }),
      el('td', {}, el('span', { className: 'badge', dataset: { status: 'waiting' }, textContent: 'waiting' })),
      el('td', { className: 'num', textContent: '–' }),
      el('td', { className: 'num', textContent: '–' }),
      el('td'),
      el('td', { className: 'outputs' }),
    );
  }

  private putRow(key: string, tr: HTMLTableRowElement, first: boolean): void {
    const tbody = $('rows');
    tbody.querySelector('td[colspan]')?.parentElement?.remove();
    const old = this.rows.get(key);
    if (old) old.remove();
    this.rows.set(key, tr);
    if (first) {
      // Newest finished first, above the files still waiting.
      tbody.prepend(tr);
    } else tbody.append(tr);
  }

  private showRow(row: FileRow): void {
    const key = this.waitingKey(row.file) ?? row.file;
    this.waiting = this.waiting.filter((w) => w !== key);
    const outputs = el('td', { className: 'outputs' });
    for (const [name, path] of Object.entries(row.outputs)) outputs.append(this.outputLink(name, path), ' ');
    if (row.report) outputs.append(this.outputLink('error report', row.report));
    const status = el('td', {}, el('span', { className: 'badge', dataset: { status: row.status }, textContent: row.status }));
    if (row.message) status.append(el('div', { className: row.status === 'failed' ? 'error small' : 'muted small', textContent: row.message }));
    const tr = el(
      'tr',
      { dataset: { seq: row.seq, status: row.status, file: row.file } },
      el('th', { scope: 'row', textContent: key, title: row.file }),
      status,
      el('td', { className: 'num', textContent: row.seconds === undefined ? '–' : row.seconds.toFixed(2) }),
      el('td', { className: 'num', textContent: row.objects === undefined ? '–' : String(row.objects) }),
      el('td', { textContent: row.metrics ? `IoU ${row.metrics.iou.toFixed(3)}, pixel error ${row.metrics.pixelError.toFixed(3)}, Rand ${row.metrics.randError.toFixed(3)}` : '' }),
      outputs,
    );
    this.putRow(key, tr, true);
    this.markWorking();
  }

  /** The waiting input a finished file is: the run names inputs by their path, the page by their path in the folder. */
  private waitingKey(file: string): string | undefined {
    const norm = file.replace(/\\/g, '/');
    return this.waiting.find((w) => norm === w || norm.endsWith(`/${w}`));
  }

  /** A link that opens an output of the folder (read when clicked: a large TIFF is not held by the page). */
  private outputLink(name: string, path: string): HTMLAnchorElement {
    const a = el('a', { href: '#', textContent: name, title: path, dataset: { output: name } });
    a.addEventListener('click', async (event) => {
      event.preventDefault();
      const file = this.output ? await outputFile(this.output, path) : undefined;
      if (!file) {
        a.textContent = `${name} (not found)`;
        return;
      }
      const url = this.objectUrl(file);
      const open = el('a', { href: url, download: baseName(path) });
      open.click();
    });
    return a;
  }

  private objectUrl(file: Blob): string {
    const url = URL.createObjectURL(file);
    this.urls.add(url);
    return url;
  }

  private async addToGallery(file: string, output: string, path: string): Promise<void> {
    const blob = this.output ? await outputFile(this.output, path) : undefined;
    if (!blob || !/\.(png|jpe?g)$/i.test(path)) return;
    const list = $('gallery');
    const img = el('img', { src: this.objectUrl(blob), alt: `${output} of ${baseName(file)}`, decoding: 'async' });
    list.prepend(el('li', { className: 'thumb' }, el('figure', {}, img, el('figcaption', { textContent: `${baseName(file)} (${output})`, title: file }))));
    while (list.children.length > GALLERY) {
      const last = list.lastElementChild!;
      const src = last.querySelector('img')?.src;
      if (src) {
        URL.revokeObjectURL(src);
        this.urls.delete(src);
      }
      last.remove();
    }
    $('gallery-empty').hidden = true;
  }

  private showFailures(): void {
    const rows = [...this.failures.values()].sort((a, b) => b.seq - a.seq);
    $('failures').replaceChildren(...rows.map((row) => this.failureItem(row)));
    $('failures-empty').hidden = rows.length > 0;
  }

  private failureItem(row: FileRow): HTMLLIElement {
    const details = el('details', {}, el('summary', { textContent: 'error report' }));
    if (row.report) {
      const report = row.report;
      details.addEventListener(
        'toggle',
        async () => {
          const pre = el('pre', { textContent: 'loading…' });
          details.append(pre);
          const file = this.output ? await outputFile(this.output, report) : undefined;
          try {
            pre.textContent = file ? JSON.stringify(JSON.parse(await file.text()), null, 2) : 'no report: it is removed when the file later succeeds';
          } catch (error) {
            pre.textContent = `could not read the report: ${error}`;
          }
        },
        { once: true },
      );
    } else details.append(el('p', { className: 'muted', textContent: 'no report file' }));
    return el(
      'li',
      { dataset: { seq: row.seq } },
      el('strong', { textContent: baseName(row.file), title: row.file }),
      row.step ? el('span', { className: 'muted', textContent: ` at ${row.step}` }) : undefined,
      el('p', { className: 'error', textContent: row.message ?? 'failed' }),
      details,
    );
  }

  /** A message as the CLI's stderr has it: warnings prefixed, a failed file's line as it is. */
  log(level: 'info' | 'warn' | 'failed', message: string): void {
    const list = $('logs');
    list.prepend(el('li', { className: level === 'failed' ? 'warn' : level }, el('time', { textContent: new Date().toLocaleTimeString() }), ' ', level === 'warn' ? el('strong', { textContent: 'warning: ' }) : undefined, message));
    while (list.children.length > 100) list.lastElementChild!.remove();
  }
}
