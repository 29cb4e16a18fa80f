/// <reference lib="dom" />
/** Where the browser cannot write into a folder: the job's outputs, from its private folder, as links to download. */
import { $, el } from './dom.js';
import { listFiles } from './folders.js';

export async function offerDownloads(folder: FileSystemDirectoryHandle): Promise<void> {
  const files = (await listFiles(folder)).filter((f) => !f.path.split('/').some((part) => part.startsWith('.')));
  const list = $('download-list');
  list.querySelectorAll('a').forEach((a) => URL.revokeObjectURL(a.href));
  const items = await Promise.all(
    files.map(async ({ path, handle }) => {
      const file = await handle.getFile();
      return el('li', {}, el('a', { href: URL.createObjectURL(file), download: path.replaceAll('/', '_'), textContent: path }), ` (${file.size.toLocaleString()} bytes)`);
    }),
  );
  list.replaceChildren(...items);
  $('downloads').hidden = items.length === 0;
}
