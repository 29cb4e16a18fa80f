/// <reference lib="dom" />
/** Small DOM helpers: everything shown is built with textContent, never HTML from a run (file names are data). */

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
};

type Props = Record<string, unknown> & { dataset?: Record<string, string | number> };

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, { dataset, ...props }: Props = {}, ...children: (Node | string | undefined | null)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  for (const [k, v] of Object.entries(dataset ?? {})) node.dataset[k] = String(v);
  node.append(...children.filter((c): c is Node | string => c !== undefined && c !== null));
  return node;
}

export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
