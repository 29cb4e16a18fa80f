/**
 * What differs between the two hosts a pipeline runs on, the CLI's Node process and a
 * web page, one interface per concern: folders (folder.ts), the ledger's storage
 * (ledger-store.ts), model files (model-files.ts) and threads (threads.ts). Node's
 * implementations are in src/host/node/, the page's in src/web/host/. Nothing in this
 * folder imports a Node module, so the page can use these types and helpers.
 */
export type { FileStat, Folder, FolderEntry } from './folder.js';
export type { LedgerStore } from './ledger-store.js';
export type { ModelFiles } from './model-files.js';
export type { Threads } from './threads.js';
